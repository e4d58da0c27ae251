"""Polling in batches: the fan-out leases due sources, a batch's fetches run concurrently within the
bound, its not-modified sources are stored with one UPDATE, and a bug on one source loses only itself."""

import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.articles import polling
from apps.articles.models import Article, Source
from apps.jobs.models import Job
from tests.articles.feedfactory import items, rss

pytestmark = pytest.mark.django_db


class _Server:
    """A threading HTTP server on loopback: /slow/<n> answers a feed after `delay` seconds and counts how
    many requests it holds at once; /same/<n> answers 304 to the ETag "v1"; /broken/<n> answers 500."""

    def __init__(self, delay=0.3):
        self.delay, self.now, self.peak, self.lock = delay, 0, 0, threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802
                kind, n = self.path.strip("/").split("/")
                if kind == "same" and self.headers.get("If-None-Match") == '"v1"':
                    self.send_response(304)
                    self.end_headers()
                    return
                if kind == "broken":
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with outer.lock:
                    outer.now += 1
                    outer.peak = max(outer.peak, outer.now)
                time.sleep(outer.delay if kind == "slow" else 0)
                with outer.lock:
                    outer.now -= 1
                body = rss(items(2, prefix=f"Feed{n}", domain=f"f{n}.example.com"))
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path):
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{path}"


@pytest.fixture
def server():
    server = _Server()
    yield server
    server.httpd.shutdown()


def test_a_batch_fetches_concurrently_within_its_bound(server):
    sources = [Source.objects.create(url=server.url(f"slow/{n}"), name=f"s{n}") for n in range(6)]
    started = time.monotonic()
    results = polling.sources_poll(sources=sources, concurrency=3)
    elapsed = time.monotonic() - started
    assert server.peak == 3  # never more than the bound at once
    assert 0.55 < elapsed < 1.5  # two waves of 0.3 s, not six
    assert [r.status for r in results] == ["ok"] * 6 and Article.objects.count() == 12


def test_not_modified_sources_are_stored_with_one_update_and_each_failure_on_its_source(server):
    same = [Source.objects.create(url=server.url(f"same/{n}"), name=f"same{n}", etag='"v1"') for n in range(5)]
    broken = Source.objects.create(url=server.url("broken/1"), name="broken")
    fresh = Source.objects.create(url=server.url("fresh/1"), name="fresh")
    with CaptureQueriesContext(connection) as queries:
        results = polling.sources_poll(sources=[*same, broken, fresh])
    assert [r.status for r in results] == ["not_modified"] * 5 + ["failed", "ok"]
    source_updates = [q for q in queries.captured_queries if q["sql"].startswith('UPDATE "articles_source"')]
    assert len(source_updates) == 3  # the five not-modified ones together, the failure, the new stories
    now = timezone.now()
    for source in Source.objects.filter(pk__in=[s.pk for s in same]):
        assert source.last_success_at and source.consecutive_failures == 0
        assert now + timedelta(minutes=14) < source.next_poll_at <= now + timedelta(minutes=15)
    broken.refresh_from_db()
    assert broken.last_error_kind == "http_status" and broken.consecutive_failures == 1
    assert Article.objects.filter(source=fresh).count() == 2


def test_a_bug_storing_one_source_loses_only_that_source_and_is_raised_after_the_rest(server, monkeypatch):
    sources = [Source.objects.create(url=server.url(f"fresh/{n}"), name=f"f{n}") for n in range(3)]
    real_ingest = polling.article_ingest

    def ingest(*, source, **kwargs):
        if source.pk == sources[1].pk:
            raise ZeroDivisionError("a bug")
        return real_ingest(source=source, **kwargs)

    monkeypatch.setattr(polling, "article_ingest", ingest)
    with pytest.raises(polling.PollCrashed, match=f"source {sources[1].pk} failed .*ZeroDivisionError: a bug"):
        polling.sources_poll(sources=sources)
    assert Article.objects.filter(source__in=[sources[0], sources[2]]).count() == 4
    sources[1].refresh_from_db()
    assert sources[1].last_error_kind == "internal" and "ZeroDivisionError" in sources[1].last_error


def test_the_fan_out_leases_due_sources_and_queues_them_in_batches(settings):
    settings.POLL_BATCH = 2
    due = [Source.objects.create(url=f"https://feeds{n}.example.com/rss", name=f"d{n}") for n in range(5)]
    Source.objects.create(url="https://later.example.com/rss", next_poll_at=timezone.now() + timedelta(hours=1))
    Source.objects.create(url="https://off.example.com/rss", enabled=False)
    assert polling.sources_fan_out() == 5
    jobs = Job.objects.filter(actor="poll_sources").order_by("enqueued_at", "id")
    assert sorted(len(job.args[0]) for job in jobs) == [1, 2, 2]
    assert sorted(pk for job in jobs for pk in job.args[0]) == [s.pk for s in due]
    assert all(s.next_poll_at > timezone.now() + timedelta(minutes=29) for s in Source.objects.filter(name__startswith="d"))
    assert polling.sources_fan_out() == 0  # leased: the next cycle does not queue them again


@pytest.mark.django_db(transaction=True)
def test_a_batch_is_stored_by_several_threads_on_postgresql_as_one_job(httpserver, settings, monkeypatch):
    """Each store thread has its own connection (closed after), the job's context (its child jobs' parent,
    its captured log lines), and two feeds listing the same stories in opposite orders are stored without
    a deadlock, each story once. On SQLite one thread stores everything."""
    from apps.jobs import context

    settings.POLL_STORE_THREADS = 3
    shared = [{"title": f"Apple (NASDAQ: AAPL) beats estimates, raises guidance; record profit {i}",
               "link": f"https://wire.example.com/shared/{i}"} for i in range(40)]
    httpserver.expect_request("/forward").respond_with_data(rss(shared), content_type="application/rss+xml")
    httpserver.expect_request("/backward").respond_with_data(rss(shared[::-1]), content_type="application/rss+xml")
    for n in range(4):
        httpserver.expect_request(f"/own/{n}").respond_with_data(
            rss(items(5, prefix=f"Own{n}", domain=f"own{n}.example.com")), content_type="application/rss+xml")
    paths = ["forward", "backward", *(f"own/{n}" for n in range(4))]
    sources = [Source.objects.create(url=httpserver.url_for(f"/{path}"), name=path) for path in paths]
    stored_by, real_ingest = {}, polling.article_ingest

    def ingest(*, source, **kwargs):  # the real ingest; only notes which thread ran it
        stored_by[source.name] = threading.current_thread().name
        return real_ingest(source=source, **kwargs)

    monkeypatch.setattr(polling, "article_ingest", ingest)
    backends = _backends()
    context.start(job_id="poll-job-1", actor="poll_sources", attempt=1, request_id="req-1", log_chars=100_000)
    try:
        results = polling.sources_poll(sources=sources)
    finally:
        log = context.finish()
    assert [r.status for r in results] == ["ok"] * 6
    assert results[0].new + results[1].new == 40 and results[0].duplicates + results[1].duplicates == 40
    assert [r.new for r in results[2:]] == [5] * 4 and Article.objects.count() == 60
    threads = set(stored_by.values())
    assert len(threads) > 1 if connection.vendor == "postgresql" else threads == {threading.current_thread().name}
    analyses = Job.objects.filter(actor="analyze_article")
    assert analyses.count() == 40 and set(analyses.values_list("parent_id", flat=True)) == {"poll-job-1"}
    assert all(f"source_id={source.pk}" in log or f'"source_id": {source.pk}' in log for source in sources)
    assert _backends() == backends  # the store threads' connections are closed


def _backends() -> int:
    if connection.vendor != "postgresql":
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]
