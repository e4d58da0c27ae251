"""The hot tables carry no LIKE-pattern twin of an equality-only index (PostgreSQL; newstunneler/like_indexes.py)."""

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
