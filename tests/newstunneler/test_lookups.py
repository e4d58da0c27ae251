"""newstunneler.lookups: `__among`, `__in` with the list as one JSON parameter, against the real database
of the run (SQLite or PostgreSQL)."""

from datetime import UTC, datetime

import pytest
from django.db import connection, transaction
from django.db.models import Q

from apps.articles.models import Article

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 11, 20, 14, 30, tzinfo=UTC)
AWKWARD = ["O'Brien", 'say "hi"', "a,b", "back\\slash", "{braces}", "%s %(x)s", "€ 株 \U0001F4C8", "tab\tnew\nline", " "]


def _articles(hashes):
    return Article.objects.bulk_create([
        Article(url=f"https://news.example.com/{n}", url_hash=value, title=f"Story {n}", title_fingerprint=f"fp-{n}",
                published_at=WHEN, fetched_at=WHEN) for n, value in enumerate(hashes)])


def test_finds_what_in_finds_with_one_parameter():
    _articles(["h1", "h2", "h3", *AWKWARD])
    wanted = ["h1", "h3", "missing", *AWKWARD]
    among = Article.objects.filter(url_hash__among=wanted)
    assert sorted(among.values_list("url_hash", flat=True)) == sorted(Article.objects.filter(
        url_hash__in=wanted).values_list("url_hash", flat=True)) == sorted(["h1", "h3", *AWKWARD])
    sql, params = among.query.sql_with_params()
    assert len(params) == 1  # the whole list, however long


def test_none_is_dropped_and_an_empty_list_finds_nothing():
    _articles(["h1"])
    assert list(Article.objects.filter(url_hash__among=["h1", None]).values_list("url_hash", flat=True)) == ["h1"]
    assert not Article.objects.filter(url_hash__among=[]).exists()
    assert list(Article.objects.filter(Q(url_hash__among=[]) | Q(title="Story 0")).values_list("url_hash", flat=True)) == ["h1"]


def test_a_value_that_is_not_a_string_is_refused():
    with pytest.raises(TypeError, match="__among takes strings, not int"):
        Article.objects.filter(url_hash__among=["h1", 2])


def test_the_column_index_is_searched():
    """The plan looks the members up in the column's index (PostgreSQL with sequential scans priced out,
    as on a big table; SQLite chooses it itself), for each branch of an OR too."""
    _articles([f"h{n}" for n in range(50)])
    query = Article.objects.filter(Q(url_hash__among=["h1", "h2"]) | Q(title_fingerprint__among=["fp-3"])).values("id")
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL enable_seqscan = off")
        plan = query.explain()
    if connection.vendor == "postgresql":
        assert "Index Scan on articles_article_url_hash_key" in plan and "Seq Scan" not in plan, plan
        assert "Index Scan on articles_article_title_fingerprint" in plan, plan
    else:
        assert "USING INDEX sqlite_autoindex_articles_article_1 (url_hash=?)" in plan, plan
        assert "USING INDEX articles_article_title_fingerprint_2e4566ba (title_fingerprint=?)" in plan, plan
        assert "SCAN articles_article" not in plan, plan
    expected = Article.objects.filter(url_hash__in=["h1", "h2", "h3"]).values_list("id", flat=True)
    assert {row["id"] for row in query} == set(expected)
