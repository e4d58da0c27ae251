"""Per-ticker signals built from analysed articles."""

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

    def latest_per_symbol(self):
        """The newest signal of each symbol (one row per symbol)."""
        newest = self.filter(symbol=models.OuterRef("symbol")).order_by("-t", "-id").values("id")[:1]
        return self.filter(id=models.Subquery(newest)).order_by("symbol")


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
        ]

    def __str__(self):
        return f"{self.symbol} {self.score:.0f} {self.label}"
