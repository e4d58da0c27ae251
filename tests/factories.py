"""Test data built through the real services (ingest, analyse, build signals), not hand-made rows."""

import random
from datetime import UTC, datetime, timedelta
from itertools import count

from django.utils import timezone

from apps.articles import services
from apps.articles.feeds import Entry
from apps.articles.models import Article, Source
from apps.signals import services as signal_services
from apps.signals.models import Signal, SignalOutcome

_n = count(1)


def source(**fields) -> Source:
    n = next(_n)
    fields.setdefault("url", f"https://feeds{n}.example.com/rss")
    fields.setdefault("name", f"Feed {n}")
    return Source.objects.create(**fields)


def article(title: str, summary: str = "", source_obj: Source | None = None, published_at: datetime | None = None,
            analyse: bool = False) -> Article:
    n = next(_n)
    published_at = published_at or timezone.now() - timedelta(minutes=n)
    entry = Entry(url=f"https://news.example.com/story/{n}", title=title, summary=summary, published_at=published_at)
    result = services.article_ingest(source=source_obj, entries=[entry], fetched_at=timezone.now())
    obj = Article.objects.get(pk=result.article_ids[0])
    if analyse:
        analysis = services.article_analyze(article=obj, provider="offline")
        signal_services.signals_from_analysis(analysis=analysis)
    return obj


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=UTC)


def scored_outcomes(n: int = 400, entry: datetime = datetime(2026, 11, 2, 21, tzinfo=UTC)) -> None:
    """n bullish signals over the 20 days before `entry`, labelled High-Conviction (score >= 75) or
    Watch, each with a 5-session outcome whose excess return leans with the score (plus noise): what
    compute_outcomes would have written, for the report's pages."""
    rnd = random.Random(11)
    for i in range(n):
        score = rnd.uniform(0, 100)
        t = entry - timedelta(days=20) + timedelta(hours=1.2 * i)
        signal = Signal.objects.create(symbol=f"S{i}", t=t, score=score, stance="BULLISH",
                                       label="High-Conviction" if score >= 75 else "Watch")
        excess = (score - 50) / 5000 + rnd.gauss(0, 0.01)
        SignalOutcome.objects.create(signal=signal, horizon=5, entry_t=t + timedelta(hours=2),
                                     exit_t=t + timedelta(days=7), ret=excess, benchmark_ret=0.0, excess_ret=excess,
                                     direction_right=excess > 0, entry_price=10, exit_price=10)
