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
    from apps.articles import services

    sources = [Source.objects.create(url=server.url(f"fresh/{n}"), name=f"f{n}") for n in range(3)]
    real_candidates = services._ingest_candidates

    def candidates(entries, result):  # a bug on source 1's entries, whether stored with others or alone
        if any("f1.example.com" in entry.url for entry in entries):
            raise ZeroDivisionError("a bug")
        return real_candidates(entries, result)

    monkeypatch.setattr(services, "_ingest_candidates", candidates)
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
    monkeypatch.setattr(polling, "STORE_GROUP", 1)  # each answer on its own, so that every thread has some
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


def _done(value):
    from concurrent.futures import Future

    future = Future()
    future.set_result(value)
    return future


def test_store_threads_take_what_has_arrived_at_most_a_group_at_a_time(monkeypatch):
    import queue

    monkeypatch.setattr(polling, "STORE_GROUP", 4)
    arrived = queue.SimpleQueue()
    for n in range(10):
        arrived.put((f"source {n}", _done(n)))
    groups = []
    polling._store_all(arrived, 10, groups.append)
    assert [[answer for _, answer in group] for group in groups] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def _all_arrived_first(monkeypatch):
    """The feeds' answers all arrive before the first is stored (as on a busy poll), so that they are
    stored in groups: the real _store_all, given a queue that holds every answer already, in the order
    of the sources (a group's "earlier feed" is the one that arrived first)."""
    import queue

    real = polling._store_all

    def store_all(arrived, count, handle_group):
        answers = []
        for _ in range(count):
            source, future = arrived.get()
            future.result()
            answers.append((source, future))
        ready = queue.SimpleQueue()
        for answer in sorted(answers, key=lambda answer: answer[0].pk):  # in the sources' order, whatever came first
            ready.put(answer)
        real(ready, count, handle_group)

    monkeypatch.setattr(polling, "_store_all", store_all)


@pytest.mark.django_db(transaction=True)
def test_feeds_that_arrived_together_are_stored_together_as_they_would_be_one_by_one(httpserver, settings,
                                                                                   monkeypatch):
    """One transaction and one insert per table for the group; each source's result, warning, count and
    articles as if stored alone: a URL or a title an earlier feed of the group has is a duplicate in a
    later one, whose similar titles lose novelty; a bad entry is named on its own source."""
    from apps.articles.models import ArticleScore

    settings.POLL_STORE_THREADS = 1
    _all_arrived_first(monkeypatch)
    first = [{"title": "Acme (NYSE: ACME) wins large defense contract from the Army", "link": "https://g.example.com/1"},
             {"title": "Globex (NASDAQ: GBX) beats estimates and raises guidance", "link": "https://g.example.com/2"}]
    second = [{"title": "Acme (NYSE: ACME) wins large defense contract from the Navy", "link": "https://h.example.com/1"},
              {"title": "Globex (NASDAQ: GBX) beats estimates and raises guidance", "link": "https://h.example.com/2"},
              {"title": "Same URL as the first feed's", "link": "https://g.example.com/1?utm_source=x"},
              {"title": "Bad port", "link": "https://h.example.com:99999/3"}]
    httpserver.expect_request("/first").respond_with_data(rss(first), content_type="application/rss+xml")
    httpserver.expect_request("/second").respond_with_data(rss(second), content_type="application/rss+xml")
    sources = [Source.objects.create(url=httpserver.url_for(f"/{name}"), name=name) for name in ("first", "second")]
    with CaptureQueriesContext(connection) as queries:
        results = polling.sources_poll(sources=sources)
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "articles_article"')]
    assert len(inserts) == 1
    assert [(r.status, r.new, r.duplicates, r.skipped) for r in results] == [("ok", 2, 0, 0), ("ok", 1, 2, 1)]
    for source in sources:
        source.refresh_from_db()
    assert [s.articles_ingested for s in sources] == [2, 1] and sources[0].last_warning == ""
    assert "1 entry not stored (unusable URL 'https://h.example.com:99999/3'" in sources[1].last_warning
    navy = Article.objects.get(title__endswith="from the Navy")
    assert navy.source_id == sources[1].pk and 0 < navy.score.novelty < 5  # like the first feed's Army story
    assert ArticleScore.objects.count() == Article.objects.count() == 3
    queued = Job.objects.filter(actor="analyze_article")
    assert sorted(queued.values_list("id", flat=True)) == sorted(results[0].analyses_queued + results[1].analyses_queued)


@pytest.mark.django_db(transaction=True)
def test_a_group_that_the_database_refuses_is_stored_again_one_feed_at_a_time(httpserver, settings, monkeypatch,
                                                                           caplog):
    """A row the database refuses spoils the group's transaction: rolled back, each feed is stored again on
    its own (the refused row named on its own source), and no count is taken twice."""
    import logging

    from tests.articles.test_feeds import _REFUSE, _UNREFUSE

    settings.POLL_STORE_THREADS = 1
    _all_arrived_first(monkeypatch)
    for n in range(3):
        entries = items(2, prefix=f"Group{n}", domain=f"g{n}.example.com")
        if n == 1:
            entries.append({"title": "Refused story", "link": "https://g1.example.com/refused"})
        httpserver.expect_request(f"/g/{n}").respond_with_data(rss(entries), content_type="application/rss+xml")
    sources = [Source.objects.create(url=httpserver.url_for(f"/g/{n}"), name=f"g{n}") for n in range(3)]
    with connection.cursor() as cursor:
        for statement in _REFUSE[connection.vendor]:
            cursor.execute(statement)
    try:
        with caplog.at_level(logging.INFO, logger="apps.articles.polling"):
            results = polling.sources_poll(sources=sources)
    finally:
        with connection.cursor() as cursor:
            for statement in _UNREFUSE[connection.vendor]:
                cursor.execute(statement)
    (fallback,) = [r.msg for r in caplog.records if isinstance(r.msg, dict)
                   and r.msg.get("event") == "poll_group_stored_one_by_one"]
    assert sorted(fallback["sources"]) == [s.pk for s in sources] and "BatchRefused" in fallback["reason"]
    assert [(r.status, r.new, r.skipped) for r in results] == [("ok", 2, 0), ("ok", 2, 1), ("ok", 2, 0)]
    for source in sources:
        source.refresh_from_db()
    assert [s.articles_ingested for s in sources] == [2, 2, 2] and Article.objects.count() == 6
    assert "the database refused 'https://g1.example.com/refused'" in sources[1].last_warning
    assert sources[0].last_warning == sources[2].last_warning == ""


@pytest.mark.django_db(transaction=True)
def test_a_group_that_fails_midway_leaves_its_sources_as_they_were_before_each_is_stored_alone(
        httpserver, settings, monkeypatch):
    """A failure after the group recorded a first source's success (in memory, then rolled back): that
    source is stored again from its state before the group, its count taken once."""
    settings.POLL_STORE_THREADS = 1
    _all_arrived_first(monkeypatch)
    for n in range(2):
        httpserver.expect_request(f"/m/{n}").respond_with_data(
            rss(items(3, prefix=f"Mid{n}", domain=f"m{n}.example.com")), content_type="application/rss+xml")
    sources = [Source.objects.create(url=httpserver.url_for(f"/m/{n}"), name=f"m{n}", articles_ingested=5)
               for n in range(2)]
    real, calls = polling._succeeded_with, []

    def succeeded_with(source, *args):  # the group's second source fails once, after the first succeeded
        calls.append(source.pk)
        if len(calls) == 2:
            raise ZeroDivisionError("midway")
        return real(source, *args)

    monkeypatch.setattr(polling, "_succeeded_with", succeeded_with)
    results = polling.sources_poll(sources=sources)
    ids = sorted(s.pk for s in sources)
    assert len(calls) == 4 and sorted(calls[:2]) == sorted(calls[2:]) == ids  # the group, then one by one
    assert [(r.status, r.new) for r in results] == [("ok", 3), ("ok", 3)]
    assert [s.articles_ingested for s in sources] == [8, 8]  # in memory, as saved
    for source in sources:
        source.refresh_from_db()
    assert [s.articles_ingested for s in sources] == [8, 8] and Article.objects.count() == 6
