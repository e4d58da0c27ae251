"""Per-ticker signals built from analysed articles, and who hears about them (digests, webhooks)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q


class Label(models.TextChoices):
    HIGH_CONVICTION = "High-Conviction"
    OPPORTUNITY = "Opportunity"
    WATCH = "Watch"
    IGNORE = "Ignore"


class SignalQuerySet(models.QuerySet):
    def with_article(self):
        """With the article's title and URL as `article_title` / `article_url` (what the API shows),
        not the whole article row."""
        return self.annotate(article_title=models.F("article__title"), article_url=models.F("article__url"))


class Signal(models.Model):
    symbol = models.CharField(max_length=12)
    t = models.DateTimeField(help_text="When the news was published.")
    score = models.FloatField(help_text="0-100; above 50 leans bullish, below leans bearish.")
    label = models.CharField(max_length=20, choices=Label.choices)
    stance = models.CharField(max_length=10, blank=True)
    reasons = models.JSONField(default=list)
    features = models.JSONField(default=dict)
    # Deleting the article keeps the signal; retention keeps referenced articles anyway.
    article = models.ForeignKey(
        "articles.Article", null=True, blank=True, on_delete=models.SET_NULL, related_name="signals"
    )
    # Set when the signal is made, while their switches are on (apps/signals/predictions.py):
    predicted_up = models.FloatField(
        null=True, blank=True, help_text="ml_predictions: the model's P(excess return > 0 after 5 sessions).")
    model_version = models.CharField(max_length=40, blank=True, help_text="The prediction model that said so.")
    expected_move = models.FloatField(
        null=True, blank=True, help_text="time_series_forecasting: the expected 1-session move (1 sigma, %).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = SignalQuerySet.as_manager()

    class Meta:
        ordering = ["-t", "-id"]
        constraints = [models.UniqueConstraint(fields=["symbol", "t"], name="signal_symbol_t_unique")]
        indexes = [
            models.Index(fields=["symbol", "-t"], name="signal_symbol_t_idx"),
            models.Index(fields=["-t"], name="signal_t_idx"),
            models.Index(fields=["-score"], name="signal_high_score_idx", condition=Q(score__gte=60)),
            models.Index(fields=["created_at"], name="signal_created_idx"),  # the overview's signals per hour
        ]

    def __str__(self):
        return f"{self.symbol} {self.score:.0f} {self.label}"


# --- Notify: digests, webhooks ---------------------------------------------------------------

class Frequency(models.TextChoices):
    DAILY = "daily"
    WEEKLY = "weekly"


class DigestSubscription(models.Model):
    """Someone who gets a digest by email: a user (their address) or a bare address."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="digest_subscriptions")
    email = models.EmailField(blank=True, help_text="Sent here; empty: the user's own address.")
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.DAILY)
    min_score = models.FloatField(default=60, validators=[MinValueValidator(0), MaxValueValidator(100)],
                                  help_text="Only signals scoring at least this (0-100).")
    symbols = models.JSONField(default=list, blank=True, help_text="Only these symbols (empty: all).")
    labels = models.JSONField(default=list, blank=True, help_text="Only these labels (empty: all).")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the recipient confirmed it (or it went to the user's own address, or "
                                         "staff made it). Nothing is sent to an unconfirmed address.")

    class Meta:
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(user__isnull=False) | ~Q(email=""),
                                              name="digest_subscription_has_recipient")]

    def __str__(self):
        return f"{self.frequency} digest to {self.recipient or '?'}"

    @property
    def recipient(self) -> str:
        return (self.email or (self.user.email if self.user_id else "")).strip().lower()

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def is_own_address(self) -> bool:
        """Sent to the user's own address (the one on their account, which staff set), so no
        confirmation is needed."""
        own = (self.user.email if self.user_id else "").strip().lower()
        return bool(own) and self.recipient == own

    def clean(self):
        if not self.user_id and not self.email:
            raise ValidationError({"email": "Give an email address or a user."})
        if self.user_id and not self.email and not self.user.email:
            raise ValidationError({"email": "That user has no email address: give one."})
        errors = {}
        if not isinstance(self.labels, list) or any(label not in Label.values for label in self.labels):
            errors["labels"] = f"A list of any of: {', '.join(Label.values)}."
        if not isinstance(self.symbols, list) or not all(isinstance(symbol, str) for symbol in self.symbols):
            errors["symbols"] = 'A list of symbols, e.g. ["AAPL", "MSFT"].'
        if errors:
            raise ValidationError(errors)


class DigestRun(models.Model):
    """One digest for one recipient and period: the row that makes sending idempotent."""

    class Status(models.TextChoices):
        SENDING = "sending"
        SENT = "sent"
        FAILED = "failed"

    kind = models.CharField(max_length=10, choices=Frequency.choices)
    period = models.CharField(max_length=10, help_text="YYYY-MM-DD (daily) or YYYY-Www (weekly)")
    recipient = models.EmailField()
    subscription = models.ForeignKey(DigestSubscription, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    signal_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When a job last started sending it.")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["kind", "period", "recipient"], name="digest_run_once")]

    def __str__(self):
        return f"{self.kind} {self.period} to {self.recipient}: {self.status}"


class EventType(models.TextChoices):
    SIGNAL_CREATED = "signal.created"
    DIGEST_SENT = "digest.sent"
    JOB_DEAD = "job.dead"


# What an API consumer's own endpoint may subscribe to; digest.sent (recipients) and job.dead (operations)
# are for staff's endpoints.
CONSUMER_EVENT_TYPES = [EventType.SIGNAL_CREATED.value]


def new_webhook_secret() -> str:
    import secrets

    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """An outside URL that gets signed POSTs for the events it subscribes to."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE,
                              related_name="webhook_endpoints",
                              help_text="the API consumer who registered it (empty: staff's, made in the admin)")
    name = models.CharField(max_length=100)
    url = models.URLField(max_length=2000, help_text="http(s) on a public address (the feeds' SSRF rules).")
    secret = models.CharField(max_length=200, default=new_webhook_secret,
                              help_text="Signs each payload (HMAC-SHA256); share it with the receiver.")
    event_types = models.JSONField(default=list, help_text=f"Any of {', '.join(EventType.values)}.")
    enabled = models.BooleanField(default=True)
    failing_since = models.DateTimeField(null=True, blank=True, help_text="First failure since the last success.")
    disabled_reason = models.TextField(blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        from newstunneler.netguard import BlockedURL, check_url

        errors = {}
        if not isinstance(self.event_types, list) or not self.event_types or any(
                event not in EventType.values for event in self.event_types):
            errors["event_types"] = f"Choose one or more of: {', '.join(EventType.values)}."
        try:
            check_url(self.url)
        except BlockedURL as exc:
            errors["url"] = str(exc)
        if errors:
            raise ValidationError(errors)


class WebhookDelivery(models.Model):
    """One attempt to deliver one event to one endpoint."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=30)
    event_id = models.CharField(max_length=36, help_text="The same for every attempt of one event.")
    attempt = models.PositiveIntegerField(default=1)
    status_code = models.PositiveIntegerField(null=True, blank=True)
    ok = models.BooleanField(default=False)
    error = models.TextField(blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [models.Index(fields=["endpoint", "-created_at"], name="webhook_delivery_endpoint_idx")]

    def __str__(self):
        return f"{self.event_type} -> {self.endpoint}: {self.status_code or self.error[:40]}"


class OutcomeStatus(models.TextChoices):
    OK = "ok", "OK"
    MISSING = "missing", "Missing bars (halted, or no data)"


class SignalOutcome(models.Model):
    """What the market did after a signal, per horizon (1, 5, 20 sessions). Entry: the close of the first
    daily bar strictly after the signal's time (a bar is known only once it has closed: no look-ahead);
    exit: the close `horizon` sessions later, on the exchange calendar. Returns use adjusted closes
    (splits and dividends); the benchmark's return is over the same two closes."""

    HORIZONS = (1, 5, 20)

    signal = models.ForeignKey(Signal, on_delete=models.CASCADE, related_name="outcomes")
    horizon = models.PositiveSmallIntegerField(help_text="Sessions after the entry bar.")
    status = models.CharField(max_length=10, choices=OutcomeStatus.choices, default=OutcomeStatus.OK)
    note = models.CharField(max_length=300, blank=True, help_text="Why a row is missing its figures.")
    entry_t = models.DateTimeField(help_text="Close of the entry bar.")
    exit_t = models.DateTimeField(help_text="Close of the exit bar.")
    entry_price = models.FloatField(null=True, blank=True, help_text="Adjusted close at entry.")
    exit_price = models.FloatField(null=True, blank=True, help_text="Adjusted close at exit.")
    ret = models.FloatField(null=True, blank=True, help_text="exit / entry - 1")
    benchmark_ret = models.FloatField(null=True, blank=True)
    excess_ret = models.FloatField(null=True, blank=True, help_text="ret - benchmark_ret")
    direction_right = models.BooleanField(
        null=True, blank=True, help_text="Stance against the sign of the excess return (none for a neutral stance).")
    mae = models.FloatField(null=True, blank=True,
                            help_text="Maximum adverse excursion: the worst move against the stance between entry and "
                                      "exit, from the adjusted lows (highs for a bearish stance); 0 or below.")
    excess_sigma = models.FloatField(
        null=True, blank=True, help_text="time_series_forecasting: the excess return in sigmas of the symbol's "
                                         "volatility forecast at the signal, scaled to the horizon.")
    computed_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["signal", "horizon"], name="signal_outcome_unique")]
        indexes = [models.Index(fields=["horizon", "entry_t"], name="signal_outcome_horizon_idx")]

    def __str__(self):
        return f"{self.signal_id} +{self.horizon}: {self.excess_ret if self.status == 'ok' else self.status}"


class PredictionModel(models.Model):
    """A trained model of P(excess return > 0 after `horizon` sessions) for a signal (train_signal_model).
    The newest active one predicts. `blob` is the fitted scikit-learn estimator (joblib); it is only ever
    written by train_signal_model and read back by this project."""

    class Kind(models.TextChoices):
        LOGISTIC = "logistic", "Logistic regression"
        GRADIENT_BOOSTING = "hgb", "Gradient boosting (HistGradientBoosting)"

    version = models.CharField(max_length=40, unique=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    horizon = models.PositiveSmallIntegerField(default=5)
    features = models.JSONField(default=list, help_text="The feature names, in the estimator's order.")
    samples = models.PositiveIntegerField(help_text="Signals it was trained on.")
    trained_until = models.DateTimeField(help_text="The newest signal it saw: it knows nothing after.")
    metrics = models.JSONField(default=dict, help_text="Walk-forward AUC, Brier, calibration, and the baseline's.")
    blob = models.BinaryField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.version} ({self.get_kind_display()}, {self.samples} signals)"
