from django.contrib import admin, messages
from django.db import models
from django.db.models import Count
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from apps.articles.models import (
    Analysis,
    Article,
    ArticleScore,
    ArticleTicker,
    InsiderTransaction,
    LlmSpend,
    ScoringPolicy,
    SocialHour,
    Source,
)
from apps.jobs.enqueue import enqueue
from newstunneler.admin import ReadOnlyAdmin, recent_filter


class HealthFilter(admin.SimpleListFilter):
    """?health=failing lists the failing sources worst first (the overview links here)."""

    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [("ok", "polling fine"), ("failing", "failing")]

    def queryset(self, request, queryset):
        if self.value() == "ok":
            return queryset.filter(consecutive_failures=0)
        if self.value() == "failing":
            return queryset.filter(consecutive_failures__gt=0).order_by("-consecutive_failures", "last_success_at", "id")
        return queryset


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "feed_link", "enabled", "credibility", "last_success_at", "consecutive_failures",
                    "last_error_kind", "next_poll_at", "articles_ingested"]
    list_filter = ["kind", "enabled", HealthFilter, "last_error_kind"]
    search_fields = ["name", "url", "feed_title"]
    readonly_fields = ["site_url", "feed_title", "etag", "last_modified", "cursor", "last_polled_at", "last_success_at",
                       "next_poll_at", "consecutive_failures", "last_error_kind", "last_error", "last_warning",
                       "articles_ingested", "created_at"]
    actions = ["poll_now", "enable", "disable"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    @admin.display(description="URL", ordering="url")
    def feed_link(self, obj):
        return format_html('<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', obj.url, obj.url[:80])

    @admin.action(description="Poll now")
    def poll_now(self, request, queryset):
        ids = list(queryset.values_list("id", flat=True))
        for source_id in ids:
            enqueue("poll_source", source_id)
        self.message_user(request, f"Queued a poll of {len(ids)} source(s).", messages.SUCCESS)

    @admin.action(description="Enable")
    def enable(self, request, queryset):
        self.message_user(request, f"Enabled {queryset.update(enabled=True)} source(s).", messages.SUCCESS)

    @admin.action(description="Disable")
    def disable(self, request, queryset):
        self.message_user(request, f"Disabled {queryset.update(enabled=False)} source(s).", messages.SUCCESS)


class ScoreRangeFilter(admin.SimpleListFilter):
    title = "score"
    parameter_name = "score"
    RANGES = {"lt8": (None, 8), "8-12": (8, 12), "12-16": (12, 16), "gte16": (16, None)}

    def lookups(self, request, model_admin):
        return [("lt8", "below 8"), ("8-12", "8 to 12"), ("12-16", "12 to 16"), ("gte16", "16 and above")]

    def queryset(self, request, queryset):
        if self.value() not in self.RANGES:
            return queryset
        low, high = self.RANGES[self.value()]
        if low is not None:
            queryset = queryset.filter(score__total__gte=low)
        if high is not None:
            queryset = queryset.filter(score__total__lt=high)
        return queryset


class TickerFilter(admin.SimpleListFilter):
    title = "ticker"
    parameter_name = "ticker"

    def lookups(self, request, model_admin):
        top = (ArticleTicker.objects.values("symbol").annotate(n=Count("id")).order_by("-n", "symbol")[:30])
        return [(row["symbol"], f"{row['symbol']} ({row['n']})") for row in top]

    def queryset(self, request, queryset):
        return queryset.filter(ticker_rows__symbol=self.value()) if self.value() else queryset


class ScoreInline(admin.StackedInline):
    model = ArticleScore
    can_delete = False
    readonly_fields = ["total", "catalyst", "novelty", "credibility", "sentiment", "liquidity", "details", "scored_at"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


class AnalysisInline(admin.StackedInline):
    model = Analysis
    can_delete = False
    readonly_fields = ["provider", "model", "stance", "confidence", "catalyst_type", "tickers", "thesis", "key_facts",
                       "risks", "suggested_setups", "summary", "strategy_bucket", "prompt_tokens",
                       "completion_tokens", "cost_usd", "created_at"]
    fields = readonly_fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "source", "platform", "published_at", "symbols_column", "score_column", "stance_column"]
    list_filter = ["platform", ScoreRangeFilter, TickerFilter, recent_filter("fetched_at", title="fetched", parameter="fetched"),
                   recent_filter("analysis__created_at", title="analysed", parameter="analysed"), "source",
                   "analysis__stance"]
    list_select_related = ["source", "score", "analysis"]
    search_fields = ["title", "url", "summary"]
    date_hierarchy = "published_at"
    inlines = [ScoreInline, AnalysisInline]
    readonly_fields = ["source", "platform", "url", "url_hash", "title", "title_fingerprint", "summary", "tickers",
                       "meta", "published_at", "fetched_at"]
    actions = ["analyze_now"]

    def has_add_permission(self, request):
        return False  # articles come from feeds and imports

    @admin.display(description="tickers")
    def symbols_column(self, obj):
        return ", ".join(obj.symbols)

    @admin.display(description="score", ordering="score__total")
    def score_column(self, obj):
        score = getattr(obj, "score", None)
        return f"{score.total:.1f}" if score else "-"

    @admin.display(description="stance", ordering="analysis__stance")
    def stance_column(self, obj):
        analysis = getattr(obj, "analysis", None)
        return analysis.stance if analysis else "-"

    @admin.action(description="Analyse now")
    def analyze_now(self, request, queryset):
        ids = list(queryset.values_list("id", flat=True)[:500])
        for article_id in ids:
            enqueue("analyze_article", article_id)
        self.message_user(request, f"Queued analysis of {len(ids)} article(s).", messages.SUCCESS)


@admin.register(ScoringPolicy)
class ScoringPolicyAdmin(admin.ModelAdmin):
    """A single row: the list page goes straight to it."""

    fields = ["weight_catalyst", "weight_novelty", "weight_credibility", "weight_sentiment", "weight_liquidity",
              "alert_threshold", "ticker_min_confidence", "signal_alert_score", "updated_at"]
    readonly_fields = ["updated_at"]

    def changelist_view(self, request, extra_context=None):
        policy = ScoringPolicy.current()
        return HttpResponseRedirect(reverse("admin:articles_scoringpolicy_change", args=[policy.pk]))

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(LlmSpend)
class LlmSpendAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """What the LLM cost, per UTC day and model (every call writes it)."""

    list_display = ["day", "model", "analyses", "rejected", "prompt_tokens", "completion_tokens", "cost_usd"]
    list_filter = ["model"]
    date_hierarchy = "day"


@admin.register(InsiderTransaction)
class InsiderTransactionAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Form 4 transactions (insider_trading): read from SEC filings, never edited here."""

    list_display = ["date", "symbol", "insider", "role", "code", "shares", "price", "value", "filing_link"]
    list_filter = ["code", "is_officer", "is_director", "date"]
    search_fields = ["symbol", "insider", "issuer", "accession"]
    list_select_related = ["article"]

    @admin.display(description="filing")
    def filing_link(self, obj):
        return format_html('<a href="{}" rel="noopener noreferrer" target="_blank">{}</a>', obj.article.url, obj.accession)


@admin.register(SocialHour)
class SocialHourAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Social posts per symbol and hour (the social_sentiment baseline)."""

    list_display = ["hour", "symbol", "mentions", "bullish", "bearish"]
    search_fields = ["symbol"]
    date_hierarchy = "hour"
