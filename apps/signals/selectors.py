"""Reads of the signals app."""

import re
from datetime import timedelta

from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import QuerySet
from django.utils import timezone

from apps.articles.models import Article
from apps.articles.search import is_postgres, search_articles
from apps.signals import queries
from apps.signals.models import Signal

STRONG = 60  # signal_high_score_idx holds the signals scoring at least this
SYMBOL_LIKE = re.compile(r"^[A-Za-z]{1,5}(?:[.-][A-Za-z]{1,2})?$")  # "AAPL", "BRK.B": fuzzy-matched on symbols


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
    """The best-scoring signals of the last `hours`. Asked first among the strong ones (score >= 60),
    which the partial index orders; only a window with fewer than `limit` of those needs the rest."""
    since = timezone.now() - timedelta(hours=hours)
    window = Signal.objects.with_article().filter(t__gte=since).order_by("-score", "-t", "-id")
    strong = list(window.filter(score__gte=STRONG)[:limit])
    return strong if len(strong) == limit else list(window[:limit])


def signal_latest_per_symbol() -> QuerySet:
    """The newest signal of every symbol, by symbol (a skip scan: queries.LATEST_PER_SYMBOL)."""
    return Signal.objects.with_article().filter(id__in=queries.latest_signal_ids_sql()).order_by("symbol")


def signal_search(*, q: str, limit: int = 50) -> list[Signal]:
    """Signals for `q`, best first: a symbol-like q's own symbol (newest first); then signals whose article
    matches q in full text (among the newest 200 such signals, by the article's rank); then, for a
    symbol-like q on PostgreSQL, symbols that look like it (trigram similarity: "NVDIA" finds NVDA).
    Each branch is one indexed query; none ORs conditions that would force a scan."""
    q = q.strip()
    signals = Signal.objects.with_article()
    symbol_like = bool(SYMBOL_LIKE.match(q))
    found: dict[int, Signal] = {}

    def take(rows):
        for signal in rows:
            if len(found) < limit:
                found.setdefault(signal.pk, signal)

    if symbol_like:
        take(signals.filter(symbol=q.upper()).order_by("-t", "-id")[:limit])
    if len(found) < limit:
        take(_by_article_text(signals, q))
    if symbol_like and len(found) < limit:
        if is_postgres():
            similar = (signals.filter(symbol__trigram_similar=q.upper())
                       .annotate(similarity=TrigramSimilarity("symbol", q.upper()))
                       .order_by("-similarity", "-t", "-id"))
        else:
            similar = signals.filter(symbol__icontains=q).order_by("-t", "-id")
        take(similar[:limit])
    return list(found.values())


def _by_article_text(signals: QuerySet, q: str, candidates: int = 200) -> list[Signal]:
    matching = search_articles(Article.objects.all(), q, ranked=False).values("id")
    newest = list(signals.filter(article_id__in=matching).order_by("-t", "-id")[:candidates])
    if not is_postgres() or len(newest) < 2:
        return newest
    ranked = search_articles(Article.objects.filter(id__in={s.article_id for s in newest}), q)
    rank = dict(ranked.values_list("id", "rank"))
    return sorted(newest, key=lambda s: -rank.get(s.article_id, 0))  # stable: newest first within a rank
