"""newstunneler.bulk.insert: the hand-built multi-row INSERT behind ingest and the job ledger's fan-outs,
against the real database of the run (SQLite or PostgreSQL)."""

import json
import uuid
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.articles.models import Article, ArticleScore, ScoringPolicy
from apps.jobs.models import Job, JobStatus
from newstunneler import bulk

pytestmark = pytest.mark.django_db

WHEN = datetime(2026, 11, 20, 14, 30, 15, 123456, tzinfo=UTC)


def _article(n: int, **fields) -> Article:
    values = {"url": f"https://news.example.com/{n}", "url_hash": f"hash-{n}", "title": f"Story {n}",
              "title_fingerprint": f"fp-{n}", "summary": "Apple beats", "published_at": WHEN, "fetched_at": WHEN,
              "tickers": [{"symbol": "AAPL", "confidence": 0.9, "how": "exchange"}]}
    return Article(**(values | fields))


def test_inserts_every_value_as_the_orm_reads_it_back():
    rows = bulk.insert(Article, [_article(1), _article(2, summary="")], returning=("id", "url_hash"))
    ids = {hash_: id_ for id_, hash_ in rows}
    assert set(ids) == {"hash-1", "hash-2"}
    stored = Article.objects.get(pk=ids["hash-1"])
    assert (stored.url, stored.title, stored.summary, stored.published_at) == (
        "https://news.example.com/1", "Story 1", "Apple beats", WHEN)
    assert stored.tickers == [{"symbol": "AAPL", "confidence": 0.9, "how": "exchange"}]  # JSON, not a string
    assert Article.objects.get(pk=ids["hash-2"]).summary == ""


def test_text_and_json_survive_quotes_backslashes_and_unicode():
    awkward = "O'Brien \\ \"quoted\" %s %(x)s {} € 株 \U0001F4C8 \n\t end"
    rows = bulk.insert(Article, [_article(1, title=awkward, summary=awkward, tickers=[{"text": awkward}])],
                       returning=("id",))
    stored = Article.objects.get(pk=rows[0][0])
    assert stored.title == stored.summary == awkward and stored.tickers == [{"text": awkward}]


def test_conflicts_are_skipped_and_only_inserted_rows_come_back():
    existing = bulk.insert(Article, [_article(1)], returning=("id",))[0][0]
    rows = bulk.insert(Article, [_article(1, title="again"), _article(3)], ignore_conflicts=True,
                       returning=("url_hash", "id"))
    assert [hash_ for hash_, _ in rows] == ["hash-3"]
    assert Article.objects.get(pk=existing).title == "Story 1"  # untouched
    assert Article.objects.count() == 2


def test_a_conflict_raises_without_ignore_conflicts():
    bulk.insert(Article, [_article(1)])
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert(Article, [_article(1)])


def test_ignore_conflicts_still_refuses_a_null_in_a_not_null_column():
    # Unlike SQLite's INSERT OR IGNORE, which would drop the row silently: the caller's row-by-row fallback
    # must see the refusal to name the bad entry.
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk.insert(Article, [_article(1, title=None)], ignore_conflicts=True)
    assert not Article.objects.exists()


def test_auto_now_defaults_and_a_non_plain_value_are_applied():
    jobs = [Job(id=str(uuid.uuid4()), actor="a", queue="default", args=[1, "x"], kwargs={"k": [1]},
                status=JobStatus.QUEUED, next_retry_at=WHEN) for _ in range(2)]
    jobs[1].attempts = 3.0  # a float in an integer column goes through the field's own conversion
    bulk.insert(Job, jobs)
    first, second = (Job.objects.get(pk=job.pk) for job in jobs)
    assert first.args == [1, "x"] and first.kwargs == {"k": [1]} and first.next_retry_at == WHEN
    assert first.updated_at is not None and first.enqueued_at is not None
    assert second.attempts == 3


def test_a_batch_over_sqlites_parameter_limit_is_split_and_every_row_returned():
    # On SQLite a statement holds at most the compiled-in parameter limit; PostgreSQL sends one array per column.
    limit = bulk._max_params(connection) if connection.vendor == "sqlite" else 65535
    count = limit // len(Job._meta.concrete_fields) + 7
    jobs = [Job(id=str(uuid.uuid4()), actor="a", queue="default") for _ in range(count)]
    with CaptureQueriesContext(connection) as queries:
        rows = bulk.insert(Job, jobs, returning=("id",))
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == (2 if connection.vendor == "sqlite" else 1)
    assert sorted(job_id for (job_id,) in rows) == sorted(job.pk for job in jobs)
    assert Job.objects.count() == count


def test_a_one_to_one_primary_key_is_written():
    article_id = bulk.insert(Article, [_article(1)], returning=("id",))[0][0]
    bulk.insert(ArticleScore, [ArticleScore(article_id=article_id, total=71.5, details={"why": "test"})])
    score = ArticleScore.objects.get(article_id=article_id)
    assert (score.total, score.details) == (71.5, {"why": "test"})


def test_nulls_and_empty_values_in_every_column_type():
    # A column whose values are all NULL (PostgreSQL cannot guess an array's type from them) and empty JSON.
    jobs = [Job(id=str(uuid.uuid4()), actor="a", queue="q", args=[], kwargs={}, next_retry_at=None,
                dedupe_key=None) for _ in range(3)]
    bulk.insert(Job, jobs)
    assert list(Job.objects.values_list("args", "kwargs", "next_retry_at", "dedupe_key")) == [([], {}, None, None)] * 3


def test_nothing_to_insert_sends_nothing():
    with CaptureQueriesContext(connection) as queries:
        assert bulk.insert(Article, [], returning=("id",)) == []
    assert not queries.captured_queries


def test_datetimes_and_json_are_stored_as_the_orm_stores_them():
    """Byte for byte the ORM's column values (SQLite compares datetimes as text: a different form would
    break every time filter), whatever the zone or the microseconds."""
    from datetime import timedelta, timezone

    new_york = timezone(timedelta(hours=-5))
    cases = [WHEN, WHEN.replace(microsecond=0), datetime(2026, 3, 1, 23, 59, tzinfo=new_york)]
    for n, when in enumerate(cases):
        meta = {"n": n, "quote": 'say "hi" \\ é', "list": [1, 2.5, None, True]}
        bulk.insert(Article, [_article(100 + n, published_at=when, fetched_at=when, meta=meta)])
        _article(200 + n, published_at=when, fetched_at=when, meta=meta).save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT url_hash, published_at, meta FROM articles_article ORDER BY url_hash")
        raw = {row[0]: row[1:] for row in cursor.fetchall()}
    for n in range(len(cases)):
        assert raw[f"hash-{100 + n}"] == raw[f"hash-{200 + n}"]
    assert Article.objects.filter(published_at=cases[2]).count() == 2  # the New York one, found as the same instant


def test_rows_as_mappings_take_the_defaults_of_the_fields_they_leave_out():
    rows = [{"id": str(uuid.uuid4()), "actor": "a", "queue": "q", "args": [n], "next_retry_at": WHEN} for n in range(3)]
    rows[2]["status"] = JobStatus.RUNNING
    bulk.insert(Job, rows)
    stored = {job.args[0]: job for job in Job.objects.all()}
    assert [stored[n].status for n in range(3)] == [JobStatus.QUEUED, JobStatus.QUEUED, JobStatus.RUNNING]
    assert all(stored[n].kwargs == {} and stored[n].attempts == 0 and stored[n].error_message == "" for n in range(3))
    assert stored[0].next_retry_at == WHEN and stored[0].enqueued_at is not None
    # One `now` for the batch: its default (enqueued_at) and its auto_now (updated_at), each the same in every row.
    assert len({job.enqueued_at for job in stored.values()}) == len({job.updated_at for job in stored.values()}) == 1


def test_rows_as_mappings_are_stored_as_instances_are():
    values = {"url": "https://news.example.com/m", "title": "Mapped", "title_fingerprint": "fp-m",
              "published_at": WHEN.replace(microsecond=0), "fetched_at": WHEN, "meta": {"quote": 'say "hi" é'}}
    bulk.insert(Article, [values | {"url_hash": "hash-a"}])
    bulk.insert(Article, [Article(**values, url_hash="hash-b")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT title, summary, published_at, fetched_at, meta, tickers, platform FROM articles_article "
                       "ORDER BY url_hash")
        mapped, instance = cursor.fetchall()
    assert mapped == instance


def test_a_column_no_mapping_gives_is_sent_once_not_in_every_row():
    """PostgreSQL: the document holds only the columns the rows give; the others (defaults, `now`) are one
    parameter each, stored in every row as the defaults they are. SQLite writes each row's values."""
    rows = [{"id": str(uuid.uuid4()), "actor": "a", "queue": "q", "args": [n]} for n in range(3)]
    with CaptureQueriesContext(connection) as queries:
        bulk.insert(Job, rows)
    if connection.vendor == "postgresql":
        (insert,) = [query["sql"] for query in queries.captured_queries if query["sql"].startswith("INSERT")]
        document = insert.split("jsonb_to_recordset('", 1)[1].split("'::jsonb) AS r(", 1)[0]
        assert sorted(json.loads(document)[0]) == ["actor", "args", "id", "queue"]
    stored = list(Job.objects.order_by("args"))
    assert [(job.args, job.status, job.attempts, job.kwargs, job.error_message, job.next_retry_at, job.requeued_from_id)
            for job in stored] == [([n], JobStatus.QUEUED, 0, {}, "", None, None) for n in range(3)]
    assert len({job.enqueued_at for job in stored}) == len({job.updated_at for job in stored}) == 1
    assert stored[0].enqueued_at is not None and stored[0].updated_at is not None


def test_rows_of_mappings_that_give_no_field_take_every_default():
    bulk.insert(ScoringPolicy, [{}, {}])
    assert list(ScoringPolicy.objects.values_list("weight_catalyst", "alert_threshold")) == [(1.0, 12.0), (1.0, 12.0)]


def test_a_naive_datetime_is_read_in_the_default_zone_as_the_orm_reads_it():
    naive = datetime(2026, 7, 1, 9, 30)
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        bulk.insert(Article, [_article(1, published_at=naive, fetched_at=WHEN)])
    with pytest.warns(RuntimeWarning, match="naive datetime"):
        _article(2, published_at=naive, fetched_at=WHEN).save()
    with connection.cursor() as cursor:
        cursor.execute("SELECT published_at FROM articles_article ORDER BY url_hash")
        (by_bulk,), (by_orm,) = cursor.fetchall()
    assert by_bulk == by_orm
    assert Article.objects.filter(published_at=naive.replace(tzinfo=UTC)).count() == 2  # TIME_ZONE is UTC
