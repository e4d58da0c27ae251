"""The signals reads that must stay fast at a million rows: latest per symbol (raw SQL, queries.py),
top, and search (full text through the index, ranked; fuzzy symbols). Checked on both databases; the
index and fuzzy checks run where PostgreSQL is (CI's second pass)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.articles.models import Article
from apps.signals import queries, selectors
from apps.signals.models import Signal

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="PostgreSQL full text and trigrams")

T0 = datetime(2026, 11, 1, tzinfo=UTC)


def article(n: int, title: str, summary: str = "") -> Article:
    return Article.objects.create(url=f"https://example.com/{n}", url_hash=f"{n:064x}", title=title,
                                  title_fingerprint=f"{n:064x}", summary=summary, published_at=T0, fetched_at=T0)


def signal(symbol: str, minutes: int, score: float = 50, article_obj=None, t=None) -> Signal:
    return Signal.objects.create(symbol=symbol, t=t or T0 + timedelta(minutes=minutes), score=score, label="Watch",
                                 article=article_obj)


def test_latest_signal_ids_are_each_symbols_newest():
    made = [signal(symbol, minutes) for symbol in ("AAPL", "MSFT", "A", "ZZZZ", "MSFT.B")
            for minutes in (5, 1, 9, 3) if (symbol, minutes) != ("A", 9)]
    newest = {}
    for s in made:
        if s.symbol not in newest or s.t > newest[s.symbol].t:
            newest[s.symbol] = s
    assert sorted(queries.latest_signal_ids()) == sorted(s.pk for s in newest.values())
    assert [s.symbol for s in selectors.signal_latest_per_symbol()] == ["A", "AAPL", "MSFT", "MSFT.B", "ZZZZ"]
    Signal.objects.all().delete()
    assert queries.latest_signal_ids() == []


def test_top_falls_back_to_weak_signals_when_few_are_strong():
    now = timezone.now()
    strong = signal("AAPL", 0, score=80, t=now - timedelta(hours=1))
    weak = [signal("MSFT", 0, score=s, t=now - timedelta(hours=2, minutes=s)) for s in (40, 55, 30)]
    signal("OLD", 0, score=99, t=now - timedelta(hours=30))  # outside the window
    assert selectors.signal_top(hours=24, limit=1) == [strong]
    assert [s.score for s in selectors.signal_top(hours=24, limit=3)] == [80, 55, 40]
    assert len(selectors.signal_top(hours=24, limit=10)) == 1 + len(weak)


def test_search_puts_the_symbol_first_then_text_matches():
    merger = article(1, "Acme agrees merger with Globex")
    signal("ACME", 1, article_obj=merger)
    own = signal("AAPL", 2)
    signal("MSFT", 3, article_obj=article(2, "Microsoft opens an office"))
    assert selectors.signal_search(q="aapl") == [own]
    assert [s.symbol for s in selectors.signal_search(q="merger")] == ["ACME"]
    assert selectors.signal_search(q="nothing-like-it") == []
    assert len(selectors.signal_search(q="a", limit=1)) <= 1


@postgres_only
def test_search_ranks_by_relevance_not_only_time():
    often = article(1, "Merger talk: the merger of Acme and Globex, a merger of equals", "merger merger")
    once = article(2, "Initech reports quarterly results", "It mentioned a merger once.")
    signal("ACME", 1, article_obj=often)
    signal("INTC", 50, article_obj=once)  # newer
    assert [s.symbol for s in selectors.signal_search(q="merger")] == ["ACME", "INTC"]
    assert [s.symbol for s in selectors.signal_search(q="mergers")] == ["ACME", "INTC"]  # stemmed: full text


@postgres_only
def test_a_symbol_like_query_matches_similar_symbols():
    signal("NVDA", 1)
    signal("NFLX", 2)
    assert [s.symbol for s in selectors.signal_search(q="NVDIA")] == ["NVDA"]
    assert [s.symbol for s in selectors.signal_search(q="nvda")] == ["NVDA"]  # exact, case-insensitive


@postgres_only
def test_full_text_search_uses_the_index():
    signal("ACME", 1, article_obj=article(1, "Acme agrees merger"))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table: make the planner show what it can use
    with CaptureQueriesContext(connection) as captured:
        selectors.signal_search(q="merger")
    text_queries = [q["sql"] for q in captured.captured_queries if "to_tsvector" in q["sql"]]
    assert text_queries
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + text_queries[0])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "article_search_idx" in plan, plan


def test_the_database_writes_a_time_as_the_api_does():
    """queries.UTCText (the signals list's JSON page reads its times as text) against serializers.utc_text."""
    from datetime import timezone as tz

    from apps.signals.serializers import utc_text

    times = [T0, T0.replace(microsecond=1), T0.replace(microsecond=999999), T0.replace(microsecond=120000),
             datetime(2026, 3, 29, 1, 30, 5, tzinfo=tz(timedelta(hours=-5))),  # stored in UTC, written in UTC
             datetime(1999, 12, 31, 23, 59, 59, 500, tzinfo=UTC)]
    made = [signal(f"S{n}", 0, t=t) for n, t in enumerate(times)]
    written = dict(Signal.objects.filter(pk__in=[s.pk for s in made])
                   .values_list("pk", queries.UTCText("t")))
    assert [written[s.pk] for s in made] == [utc_text(t) for t in times]
    assert utc_text(times[4]) == "2026-03-29T06:30:05Z" and utc_text(times[1]) == "2026-11-01T00:00:00.000001Z"
