"""Test data built through the real services (ingest, analyse, build signals), not hand-made rows."""

from datetime import UTC, datetime, timedelta
from itertools import count

from django.utils import timezone

from apps.articles import services
from apps.articles.feeds import Entry
from apps.articles.models import Article, Source
from apps.signals import services as signal_services

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
