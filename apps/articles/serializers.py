from rest_framework import serializers

from apps.articles import scoring
from apps.articles.feeds.platforms import source_problem
from apps.articles.models import Analysis, Article, ArticleScore, InsiderTransaction, Platform, ScoringPolicy, Source
from newstunneler.api import id_param
from newstunneler.netguard import BlockedURL, check_url


class SourceSerializer(serializers.ModelSerializer):
    credibility = serializers.FloatField(min_value=0, max_value=5, required=False)
    site_url = serializers.CharField(read_only=True, help_text="the feed's own site link; empty until first polled")

    class Meta:
        model = Source
        fields = [
            "id", "kind", "url", "name", "enabled", "poll_interval_minutes", "credibility", "site_url", "feed_title",
            "last_polled_at", "last_success_at", "next_poll_at", "consecutive_failures", "last_error_kind",
            "last_error", "last_warning", "articles_ingested", "created_at",
        ]
        read_only_fields = [
            "site_url", "feed_title", "last_polled_at", "last_success_at", "next_poll_at", "consecutive_failures",
            "last_error_kind", "last_error", "last_warning", "articles_ingested", "created_at",
        ]

    def validate_url(self, value):
        try:
            check_url(value)
        except BlockedURL as exc:
            raise serializers.ValidationError(str(exc)) from None
        return value

    def validate(self, attrs):
        kind = attrs.get("kind", getattr(self.instance, "kind", "rss"))
        problem = source_problem(kind, attrs.get("url", getattr(self.instance, "url", "")))
        if problem:
            raise serializers.ValidationError({"url": problem})
        return attrs

    def create(self, validated_data):
        validated_data.setdefault("credibility", scoring.default_credibility(validated_data["url"]))
        return super().create(validated_data)


class SourceBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Source
        fields = ["id", "name", "url"]


class ScoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = ArticleScore
        fields = ["total", "catalyst", "novelty", "credibility", "sentiment", "liquidity", "details", "scored_at"]


class AnalysisSerializer(serializers.ModelSerializer):
    class Meta:
        model = Analysis
        fields = [
            "provider", "model", "stance", "confidence", "catalyst_type", "tickers", "thesis", "key_facts", "risks",
            "suggested_setups", "summary", "strategy_bucket", "prompt_tokens", "completion_tokens", "cost_usd",
            "created_at",
        ]


class ArticleListSerializer(serializers.ModelSerializer):
    source = SourceBriefSerializer(read_only=True, allow_null=True)
    score = serializers.FloatField(source="score.total", read_only=True, default=None, allow_null=True)
    stance = serializers.CharField(source="analysis.stance", read_only=True, default=None, allow_null=True)

    class Meta:
        model = Article
        fields = ["id", "title", "url", "platform", "source", "published_at", "tickers", "score", "stance"]


class ArticleDetailSerializer(ArticleListSerializer):
    score = ScoreSerializer(read_only=True, default=None, allow_null=True)
    analysis = AnalysisSerializer(read_only=True, default=None, allow_null=True)

    class Meta(ArticleListSerializer.Meta):
        fields = ["id", "title", "url", "platform", "summary", "meta", "source", "published_at", "fetched_at", "tickers",
                  "score", "analysis"]


class ArticleFilterSerializer(serializers.Serializer):
    q = serializers.CharField(required=False, max_length=200)
    min_score = serializers.FloatField(required=False)
    ticker = serializers.RegexField(r"^[A-Za-z][A-Za-z0-9.\-]{0,11}$", required=False)
    source = id_param(required=False)
    since = serializers.DateTimeField(required=False)
    platform = serializers.ChoiceField(choices=Platform.values, required=False,
                                       help_text="news (feeds), reddit, x (posts) or sec (Form 4 filings)")


class InsiderTransactionSerializer(serializers.ModelSerializer):
    """A Form 4 transaction (insider_trading); `filing_url` is the filing's EDGAR index page."""

    filing_url = serializers.CharField(source="article.url", read_only=True)

    class Meta:
        model = InsiderTransaction
        fields = ["id", "symbol", "issuer", "insider", "role", "is_officer", "is_director", "code", "acquired", "shares",
                  "price", "value", "date", "accession", "line", "article_id", "filing_url"]


class InsiderFilterSerializer(serializers.Serializer):
    symbol = serializers.RegexField(r"^[A-Za-z][A-Za-z0-9.\-]{0,11}$", required=False)
    code = serializers.RegexField(r"^[A-Za-z]{1,2}$", required=False, help_text="P, S, A, M, F, G …")
    open_market = serializers.BooleanField(required=False, default=False,
                                           help_text="only open-market purchases and sales (codes P and S)")
    since = serializers.DateField(required=False, help_text="transactions on or after this day")


class AnalyzeRequestSerializer(serializers.Serializer):
    provider = serializers.ChoiceField(
        choices=["llm", "offline"], required=False,
        help_text="llm needs a configured LLM and, with an API key, a plan with llm_analysis and budget left. "
                  "Default: the LLM where all of that allows it, else the offline analyser.")

    def validate_provider(self, value):
        from apps.articles.analysis import llm

        if value == "llm" and not llm.is_configured():
            raise serializers.ValidationError("No LLM is configured on this server: ask for offline, or for no provider.")
        return value


class JobAcceptedSerializer(serializers.Serializer):
    job_id = serializers.CharField()


class ScoringPolicySerializer(serializers.ModelSerializer):
    """The scoring policy: the weights of the score's parts and the thresholds (PATCH any of them)."""

    class Meta:
        model = ScoringPolicy
        fields = ["weight_catalyst", "weight_novelty", "weight_credibility", "weight_sentiment", "weight_liquidity",
                  "alert_threshold", "ticker_min_confidence", "signal_alert_score", "weight_social", "social_spike_z",
                  "social_min_mentions", "insider_min_value", "weight_insider", "updated_at"]
        read_only_fields = ["updated_at"]
