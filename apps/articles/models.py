"""Sources, their articles, each article's score and analysis, and the admin-edited scoring policy."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class SourceQuerySet(models.QuerySet):
    def pollable(self):
        """Enabled sources of the kinds whose switch is on (KIND_FLAGS)."""
        from apps import flags

        return self.filter(enabled=True, kind__in=[kind for kind, flag in KIND_FLAGS.items() if flags.is_enabled(flag)])

    def due(self, now=None):
        now = now or timezone.now()
        return self.pollable().filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lte=now))


class SourceKind(models.TextChoices):
    RSS = "rss", "RSS/Atom feed"
    REDDIT = "reddit", "Reddit (a subreddit or a search)"
    X = "x", "X (a recent search or a list)"
    SEC_FORM4 = "sec_form4", "SEC EDGAR Form 4 filings"


# The flag that gates each kind's polling (apps/flags/registry.py); RSS is rss_polling's.
KIND_FLAGS = {SourceKind.RSS: "rss_polling", SourceKind.REDDIT: "reddit_integration",
              SourceKind.X: "twitter_integration", SourceKind.SEC_FORM4: "insider_trading"}


class Platform(models.TextChoices):
    """Where an article comes from: news (feeds), posts (Reddit, X), filings (SEC)."""

    NEWS = "news"
    REDDIT = "reddit"
    X = "x"
    SEC = "sec"


SOCIAL_PLATFORMS = frozenset({Platform.REDDIT, Platform.X})  # posts: stricter tickers, social sentiment


class Source(models.Model):
    kind = models.CharField(
        max_length=10, choices=SourceKind.choices, default=SourceKind.RSS,
        help_text="What the URL is: a feed; a subreddit (https://www.reddit.com/r/stocks) or a Reddit search "
                  "(…/search?q=…); an X search (https://x.com/search?q=…) or list (https://x.com/i/lists/ID); "
                  "the EDGAR current Form 4 feed.")
    url = models.URLField(max_length=2000, unique=True)
    name = models.CharField(max_length=200, blank=True)
    enabled = models.BooleanField(default=True)
    poll_interval_minutes = models.PositiveIntegerField(
        default=15, validators=[MinValueValidator(1), MaxValueValidator(7 * 24 * 60)]
    )
    credibility = models.FloatField(
        default=2.0,
        validators=[MinValueValidator(0), MaxValueValidator(5)],
        help_text="0-5. Defaults from the feed's domain (filings and wire services 5, major outlets 4).",
    )
    site_url = models.URLField(max_length=2000, blank=True)
    feed_title = models.CharField(max_length=300, blank=True)
    # HTTP caching state for conditional GET.
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    # A social source's reading position: X's since_id and an unfinished walk's next_token, Reddit's newest post.
    cursor = models.JSONField(default=dict, blank=True)
    # Polling state.
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    next_poll_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error_kind = models.CharField(max_length=40, blank=True)
    last_error = models.TextField(blank=True)
    last_warning = models.TextField(blank=True)
    articles_ingested = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["enabled", "next_poll_at"], name="source_due_idx")]

    def __str__(self):
        return self.name or self.url

    def clean(self):
        from apps.articles.feeds.platforms import source_problem

        problem = source_problem(self.kind, self.url)
        if problem:
            raise ValidationError({"url": problem})

    @property
    def poll_interval(self) -> timedelta:
        return timedelta(minutes=self.poll_interval_minutes)


class ArticleQuerySet(models.QuerySet):
    def with_details(self):
        return self.select_related("source", "score", "analysis")

    def recent(self, hours: int, now=None):
        return self.filter(published_at__gte=(now or timezone.now()) - timedelta(hours=hours))


class Article(models.Model):
    # No index of its own: article_source_pub_idx (source, -published_at) leads with it.
    source = models.ForeignKey(Source, null=True, blank=True, on_delete=models.SET_NULL, related_name="articles",
                               db_index=False)
    url = models.URLField(max_length=2000, help_text="Canonical URL: lower-cased host, no fragment or tracking.")
    url_hash = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=1000)
    title_fingerprint = models.CharField(max_length=64, db_index=True)
    summary = models.TextField(blank=True)
    tickers = models.JSONField(default=list, blank=True, help_text="[{symbol, confidence, how}]")
    published_at = models.DateTimeField(db_index=True)
    fetched_at = models.DateTimeField()
    platform = models.CharField(max_length=10, choices=Platform.choices, default=Platform.NEWS,
                                help_text="news, reddit, x or sec (a filing).")
    meta = models.JSONField(default=dict, blank=True,
                            help_text="What the platform says of the post: score, comments, author, link …")

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at", "-id"]
        indexes = [models.Index(fields=["source", "-published_at"], name="article_source_pub_idx"),
                   models.Index(fields=["fetched_at"], name="article_fetched_idx")]  # the overview's articles per hour
        permissions = [("request_analysis", "Can ask for an analysis of an article")]

    def __str__(self):
        return self.title[:120]

    @property
    def symbols(self) -> list[str]:
        return [match["symbol"] for match in self.tickers]

    def symbols_at_least(self, confidence: float) -> list[str]:
        return [match["symbol"] for match in self.tickers if match.get("confidence", 0) >= confidence]


class ArticleTicker(models.Model):
    """One row per ticker an article mentions: what the ticker filters and signals join on."""

    # No index of its own: the unique constraint's (article, symbol) leads with it.
    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="ticker_rows", db_index=False)
    symbol = models.CharField(max_length=12)
    confidence = models.FloatField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "symbol"], name="article_ticker_unique")]
        indexes = [models.Index(fields=["symbol", "article"], name="article_ticker_symbol_idx")]

    def __str__(self):
        return self.symbol


class ArticleScore(models.Model):
    article = models.OneToOneField(Article, primary_key=True, on_delete=models.CASCADE, related_name="score")
    catalyst = models.FloatField(default=0)
    novelty = models.FloatField(default=0)
    credibility = models.FloatField(default=0)
    sentiment = models.FloatField(default=0, help_text="-1 (bearish words) .. +1 (bullish words)")
    liquidity = models.FloatField(default=0)
    total = models.FloatField(default=0, db_index=True)
    details = models.JSONField(default=dict, blank=True)
    scored_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"{self.total:.1f}"


class Stance(models.TextChoices):
    BULLISH = "BULLISH"
    BEARISH = "BEARISH"
    NEUTRAL = "NEUTRAL"


class CatalystType(models.TextChoices):
    EARNINGS = "EARNINGS"
    FDA = "FDA"
    MA = "M&A"
    CONTRACT = "CONTRACT"
    GUIDANCE = "GUIDANCE"
    MACRO = "MACRO"
    OTHER = "OTHER"


class Analysis(models.Model):
    class Provider(models.TextChoices):
        LLM = "llm"
        OFFLINE = "offline"
        FINBERT = "finbert"

    article = models.OneToOneField(Article, on_delete=models.CASCADE, related_name="analysis")
    provider = models.CharField(max_length=10, choices=Provider.choices)
    model = models.CharField(max_length=100, blank=True)
    stance = models.CharField(max_length=10, choices=Stance.choices)
    confidence = models.FloatField(validators=[MinValueValidator(0), MaxValueValidator(1)])
    catalyst_type = models.CharField(max_length=10, choices=CatalystType.choices)
    tickers = models.JSONField(default=list)
    thesis = models.TextField(blank=True)
    key_facts = models.JSONField(default=list)
    risks = models.JSONField(default=list)
    suggested_setups = models.JSONField(default=list)
    summary = models.TextField(blank=True)
    strategy_bucket = models.CharField(max_length=40, blank=True)
    plan = models.JSONField(default=dict, help_text="The whole plan as returned (JSONB on PostgreSQL).")
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=12, decimal_places=6, default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "analyses"
        indexes = [models.Index(fields=["created_at"], name="analysis_created_idx")]

    def __str__(self):
        return f"{self.stance} {self.confidence:.2f} ({self.provider})"


class ScoringPolicy(models.Model):
    """One row (pk=1): the weights of the score components and the threshold for analysis."""

    weight_catalyst = models.FloatField(default=1.0, validators=[MinValueValidator(0)])
    weight_novelty = models.FloatField(default=1.0, validators=[MinValueValidator(0)])
    weight_credibility = models.FloatField(default=1.0, validators=[MinValueValidator(0)])
    weight_sentiment = models.FloatField(default=1.0, validators=[MinValueValidator(0)])
    weight_liquidity = models.FloatField(default=1.0, validators=[MinValueValidator(0)])
    alert_threshold = models.FloatField(
        default=12.0, validators=[MinValueValidator(0)], help_text="Articles scoring at least this are analysed."
    )
    ticker_min_confidence = models.FloatField(
        default=0.75, validators=[MinValueValidator(0), MaxValueValidator(1)],
        help_text="Signals are made only for tickers resolved with at least this confidence (0-1): an exchange "
                  "prefix 0.98, a cashtag 0.95, a distinctive name 0.85-0.9, a name with corporate context 0.85, "
                  "a bare symbol 0.7.",
    )
    signal_alert_score = models.FloatField(
        default=75.0, validators=[MinValueValidator(0), MaxValueValidator(100)],
        help_text="Signals scoring at least this (0-100) are alerted: Slack, webhooks, the live stream.",
    )
    # social_sentiment: an hour of social mentions far above the symbol's own baseline moves its signals.
    weight_social = models.FloatField(
        default=8.0, validators=[MinValueValidator(0), MaxValueValidator(50)],
        help_text="Points (before squashing to 0-100) a social spike adds at full strength, signed by the posts' stance.")
    social_spike_z = models.FloatField(
        default=3.0, validators=[MinValueValidator(0.5)],
        help_text="A symbol's hour of social mentions is a spike this many standard deviations above its 7-day baseline.")
    social_min_mentions = models.PositiveIntegerField(
        default=5, validators=[MinValueValidator(1)], help_text="…and with at least this many mentions.")
    # insider_trading: open-market Form 4 purchases and sales by officers and directors make signals.
    insider_min_value = models.FloatField(
        default=250_000, validators=[MinValueValidator(0)],
        help_text="USD: an officer's or director's open-market purchase or sale at least this large makes a signal.")
    weight_insider = models.FloatField(
        default=12.0, validators=[MinValueValidator(0), MaxValueValidator(50)],
        help_text="Points (before squashing) of an insider purchase at the minimum value; sales count half.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = verbose_name_plural = "scoring policy"

    def __str__(self):
        return "Scoring policy"

    @classmethod
    def current(cls) -> "ScoringPolicy":
        policy, _ = cls.objects.get_or_create(pk=1)
        return policy

    def save(self, *args, **kwargs):
        self.pk = 1
        super().save(*args, **kwargs)


class LlmSpend(models.Model):
    """What LLM calls cost, per UTC day and model: every call counts, answers rejected as invalid and
    calls of failed analyses included. The daily budget (NT_LLM_DAILY_BUDGET_USD) is checked against it."""

    day = models.DateField()
    model = models.CharField(max_length=100)
    analyses = models.PositiveIntegerField(default=0, help_text="analyses that called the LLM (a repair is a 2nd call)")
    rejected = models.PositiveIntegerField(default=0, help_text="of which the tokens bought no valid answer")
    prompt_tokens = models.PositiveBigIntegerField(default=0)
    completion_tokens = models.PositiveBigIntegerField(default=0)
    cost_usd = models.DecimalField(max_digits=14, decimal_places=6, default=0)

    class Meta:
        verbose_name = verbose_name_plural = "LLM spend"
        ordering = ["-day", "model"]
        constraints = [models.UniqueConstraint(fields=["day", "model"], name="llm_spend_day_model")]

    def __str__(self):
        return f"{self.day} {self.model}: ${self.cost_usd}"


class SocialHour(models.Model):
    """Social posts (Reddit, X) that name a symbol, per UTC hour: the social_sentiment baseline."""

    symbol = models.CharField(max_length=12)
    hour = models.DateTimeField(help_text="The hour's start (UTC).")
    mentions = models.PositiveIntegerField(default=0)
    bullish = models.PositiveIntegerField(default=0)
    bearish = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["symbol", "hour"], name="social_hour_unique")]

    def __str__(self):
        return f"{self.symbol} {self.hour:%Y-%m-%d %H}:00 {self.mentions}"


class InsiderTransaction(models.Model):
    """One non-derivative transaction of an SEC Form 4 filing (the filing is stored as an article)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="insider_transactions")
    accession = models.CharField(max_length=25, help_text="The filing's EDGAR accession number.")
    line = models.PositiveSmallIntegerField(help_text="The transaction's position in the filing's table.")
    symbol = models.CharField(max_length=12, help_text="The issuer's trading symbol.")
    issuer = models.CharField(max_length=200)
    insider = models.CharField(max_length=200)
    role = models.CharField(max_length=200, help_text="Director, an officer's title, 10% owner …")
    is_officer = models.BooleanField(default=False)
    is_director = models.BooleanField(default=False)
    code = models.CharField(max_length=2, help_text="P open-market purchase, S open-market sale, A award, M exercise …")
    acquired = models.BooleanField(help_text="Acquired (A) or disposed of (D).")
    shares = models.DecimalField(max_digits=20, decimal_places=4)
    price = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    value = models.DecimalField(max_digits=24, decimal_places=2, null=True, blank=True, help_text="shares × price, USD")
    date = models.DateField()

    class Meta:
        ordering = ["-date", "-id"]
        constraints = [models.UniqueConstraint(fields=["accession", "line"], name="insider_tx_unique")]
        indexes = [models.Index(fields=["symbol", "-date"], name="insider_tx_symbol_idx")]

    def __str__(self):
        return f"{self.insider} {self.code} {self.shares} {self.symbol}"
