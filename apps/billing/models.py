"""Plans, accounts and their API keys; usage records (metering rolls up into them)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone


class Feature(models.TextChoices):
    """What a plan can include (Plan.features); the API refuses the rest with 403 naming the feature."""

    LLM_ANALYSIS = "llm_analysis", "analyses by the LLM (provider=llm)"
    SIGNAL_SEARCH = "signal_search", "GET /api/v1/signals/search/"
    PRIORITY_SUPPORT = "priority_support", "priority support"


class Plan(models.Model):
    name = models.CharField(max_length=50, unique=True)
    requests_per_minute = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    requests_per_day = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    analyses_per_month = models.PositiveIntegerField()
    llm_budget_usd = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)],
        help_text="USD per month for LLM analyses. 0: none at all; empty: no cap.")
    features = models.JSONField(default=list, blank=True, help_text=f"Any of: {', '.join(Feature.values)}.")

    class Meta:
        ordering = ["requests_per_day"]

    def __str__(self):
        return self.name

    def clean(self):
        if not isinstance(self.features, list) or any(feature not in Feature.values for feature in self.features):
            raise ValidationError({"features": f"A list of any of: {', '.join(Feature.values)}."})

    def includes(self, feature: str) -> bool:
        return feature in (self.features or [])


class Account(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="accounts")
    name = models.CharField(max_length=100)
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="accounts")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ApiKeyQuerySet(models.QuerySet):
    def usable(self, now=None):
        now = now or timezone.now()
        return self.filter(revoked_at__isnull=True, account__active=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now))


class ApiKey(models.Model):
    """Only a SHA-256 of the key is stored; the key itself is shown once, when it is created."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, unique=True, help_text="the key's public start, to recognise it")
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiKeyQuerySet.as_manager()

    class Meta:
        verbose_name = "API key"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"


class UsageRecord(models.Model):
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="usage")
    day = models.DateField()
    metric = models.CharField(max_length=40)
    quantity = models.DecimalField(max_digits=16, decimal_places=6, default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day", "metric"], name="usage_account_day_metric")]
        ordering = ["-day", "metric"]

    def __str__(self):
        return f"{self.account} {self.day} {self.metric}={self.quantity}"
