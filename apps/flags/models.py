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
        return f"{self.name}: {self.old_state_text} → {self.new_state_text}"

    @property
    def old_state_text(self) -> str:
        return describe_state(self.old)

    @property
    def new_state_text(self) -> str:
        return describe_state(self.new)


def describe_state(state: dict | None) -> str:
    """A flag's recorded state in words ("on", "off", "everyone: unset, percent: 10, users: ann, bob"),
    never a Python repr."""
    if state is None:
        return "absent"
    if set(state) == {"active"}:  # a switch
        return "on" if state["active"] else "off"

    def word(value) -> str:
        if isinstance(value, bool):
            return "on" if value else "off"
        if value is None or value == "":
            return "unset"
        if isinstance(value, list):
            return ", ".join(map(str, value)) or "none"
        return str(value)

    return "; ".join(f"{key}: {word(value)}" for key, value in state.items())
