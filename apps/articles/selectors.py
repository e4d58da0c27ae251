"""Reads of the articles app."""

from django.db.models import Count, Q, QuerySet

from apps.articles.models import Article, InsiderTransaction, Source
from apps.articles.search import search_articles


def article_list(*, q: str = "", min_score: float | None = None, ticker: str = "", source: int | None = None,
                 since=None, platform: str = "") -> QuerySet:
    articles = Article.objects.with_details()
    if platform:
        articles = articles.filter(platform=platform)
    if min_score is not None:
        articles = articles.filter(score__total__gte=min_score)
    if ticker:
        articles = articles.filter(ticker_rows__symbol=ticker.upper())
    if source is not None:
        articles = articles.filter(source_id=source)
    if since is not None:
        articles = articles.filter(published_at__gte=since)
    return search_articles(articles, q) if q else articles


def insider_transaction_list(*, symbol: str = "", code: str = "", open_market: bool = False, since=None) -> QuerySet:
    rows = InsiderTransaction.objects.select_related("article")
    if symbol:
        rows = rows.filter(symbol=symbol.upper())
    if code:
        rows = rows.filter(code=code.upper())
    if open_market:
        rows = rows.filter(code__in=("P", "S"))
    if since is not None:
        rows = rows.filter(date__gte=since)
    return rows


def source_health(*, worst: int = 10) -> dict:
    """Enabled sources polling fine and failing, and the `worst` failing ones (most consecutive failures first)."""
    enabled = Source.objects.filter(enabled=True)
    counts = enabled.aggregate(ok=Count("id", filter=Q(consecutive_failures=0)),
                               failing=Count("id", filter=Q(consecutive_failures__gt=0)))
    failing = list(enabled.filter(consecutive_failures__gt=0)
                   .order_by("-consecutive_failures", "last_success_at", "id")
                   .only("id", "name", "url", "consecutive_failures", "last_error_kind", "last_error", "last_success_at")
                   [:worst])
    return {**counts, "worst": failing}
