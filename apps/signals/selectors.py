"""Reads of the signals app."""

from datetime import timedelta

from django.contrib.postgres.search import TrigramSimilarity
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone

from apps.articles.search import search_articles
from apps.articles.models import Article
from apps.signals.models import Signal


def signal_list(*, symbol: str = "", label: str = "", min_score: float | None = None, since=None) -> QuerySet:
    signals = Signal.objects.with_article()
    if symbol:
        signals = signals.filter(symbol=symbol.upper())
    if label:
        signals = signals.filter(label=label)
    if min_score is not None:
        signals = signals.filter(score__gte=min_score)
    if since is not None:
        signals = signals.filter(t__gte=since)
    return signals


def signal_top(*, hours: int = 24, limit: int = 20) -> list[Signal]:
    since = timezone.now() - timedelta(hours=hours)
    return list(Signal.objects.with_article().filter(t__gte=since).order_by("-score", "-t")[:limit])


def signal_latest_per_symbol() -> QuerySet:
    return Signal.objects.with_article().latest_per_symbol()


def signal_search(*, q: str, limit: int = 50) -> list[Signal]:
    """Symbols that look like q (trigram on PostgreSQL) or signals whose article matches q (full text)."""
    q = q.strip()
    matching_articles = search_articles(Article.objects.all(), q).values("id")
    by_article = Q(article_id__in=matching_articles)
    signals = Signal.objects.with_article()
    if connection.vendor == "postgresql":
        return list(
            signals.annotate(similarity=Greatest(TrigramSimilarity("symbol", q.upper()), TrigramSimilarity("article__title", q)))
            .filter(Q(similarity__gt=0.3) | Q(symbol=q.upper()) | by_article)
            .order_by("-similarity", "-score", "-t")[:limit]
        )
    return list(signals.filter(Q(symbol__icontains=q) | by_article).order_by("-score", "-t")[:limit])
