"""Indexes the hot tables do not carry: LIKE-pattern twins of equality-only indexes (PostgreSQL;
newstunneler/like_indexes.py), and indexes another index of the table leads with."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's varchar_pattern_ops indexes")
def test_equality_only_columns_have_no_pattern_index_and_keep_their_own():
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename, indexdef FROM pg_indexes WHERE tablename IN ('articles_article', 'jobs_job')")
        indexes = cursor.fetchall()
    assert not [d for _, d in indexes if "varchar_pattern_ops" in d]
    # The equality indexes stay: the unique hash, the primary key, the parent look-up.
    assert any("UNIQUE" in d and "(url_hash)" in d for _, d in indexes)
    assert any("jobs_job_pkey" in d for _, d in indexes) and any("(parent_id)" in d for _, d in indexes)


def test_ingest_tables_carry_no_index_another_index_leads_with():
    """Both databases: Article.source and ArticleTicker.article have no index of their own (migration
    articles 0013), as (source, -published_at) and the unique (article, symbol) lead with them; those stay."""
    with connection.cursor() as cursor:
        found = {table: connection.introspection.get_constraints(cursor, table)
                 for table in ("articles_article", "articles_articleticker")}
    indexed = {table: [c["columns"] for c in constraints.values() if c["index"] or c["unique"]]
               for table, constraints in found.items()}
    assert ["source_id"] not in indexed["articles_article"]
    assert ["source_id", "published_at"] in indexed["articles_article"]
    assert ["article_id"] not in indexed["articles_articleticker"]
    assert ["article_id", "symbol"] in indexed["articles_articleticker"]
