"""Audit of flag changes (the flags themselves are django-waffle's Switch and Flag rows)."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class FlagChange(models.Model):
    class Source(models.TextChoices):
        ADMIN = "admin"
        API = "api"
        COMMAND = "command"
        CODE = "code"
        ROLLBACK = "rollback"
        MIGRATION = "migration"

    name = models.CharField(max_length=100, db_index=True)
    kind = models.CharField(max_length=10)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    source = models.CharField(max_length=10, choices=Source.choices)
    old = models.JSONField(null=True, blank=True, help_text="state before (null: the row did not exist)")
    new = models.JSONField(null=True, blank=True, help_text="state after (null: deleted)")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.name}: {self.old} -> {self.new}"
