"""Each registered flag, on and off, changing what a user sees."""

import time

import pytest
from django.core.cache import cache

from apps.articles.models import Analysis, Article, Source
from apps.articles.tasks import poll_due_sources
from apps.flags import checks, services
from apps.jobs.enqueue import enqueue
from apps.jobs.models import Job
from tests import factories
from tests.articles.fake_openai import VALID_PLAN, configure, respond
from tests.articles.feedfactory import items, rss

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _fresh_memo():
    checks.clear_local_cache()
    yield
    checks.clear_local_cache()


@pytest.mark.parametrize("on", [True, False])
def test_rss_polling(httpserver, broker, run_jobs, on):
    services.flag_set(name="rss_polling", enabled=on)
    httpserver.expect_request("/feed").respond_with_data(rss(items(2)))
    Source.objects.create(url=httpserver.url_for("/feed"), name="f")
    message = poll_due_sources.send()
    run_jobs()
    assert Job.objects.get(pk=message.message_id).status == ("succeeded" if on else "skipped")
    assert Article.objects.count() == (2 if on else 0)


@pytest.mark.parametrize("on", [True, False])
def test_llm_analysis(httpserver, settings, on):
    import json

    from apps.articles import analysis

    configure(settings, httpserver)
    respond(httpserver, json.dumps(VALID_PLAN))
    services.flag_set(name="llm_analysis", enabled=on)
    result = analysis.analyze("Apple beats", provider="llm")
    assert result.provider == ("llm" if on else "offline")
    assert len(httpserver.log) == (1 if on else 0)


@pytest.mark.parametrize("on", [True, False])
def test_async_jobs(broker, on):
    services.flag_set(name="async_jobs", enabled=on)
    job_id = enqueue("ping", f"inline-{on}")
    job = Job.objects.get(pk=job_id)
    if on:
        assert job.status == "queued" and broker.queues["default"].qsize() == 1
        assert cache.get(f"ping:inline-{on}") is None
    else:
        assert job.status == "succeeded" and broker.queues["default"].qsize() == 0
        assert cache.get(f"ping:inline-{on}") == "pong"


def test_async_jobs_off_records_a_crash_as_a_dead_letter(broker):
    services.flag_set(name="async_jobs", enabled=False)
    job_id = enqueue("analyze_article", 999_999)  # no such article
    job = Job.objects.get(pk=job_id)
    assert job.status == "dead" and "DoesNotExist" in job.error_class


@pytest.mark.parametrize("on", [True, False])
def test_redis_caching(client, viewer, on):
    services.flag_set(name="redis_caching", enabled=on)
    client.force_login(viewer)
    factories.article("Apple (NASDAQ: AAPL) beats estimates and raises guidance", analyse=True)
    first = client.get("/api/v1/signals/latest/").json()
    factories.article("Microsoft (NASDAQ: MSFT) wins record cloud contract award", analyse=True)
    second = client.get("/api/v1/signals/latest/").json()
    assert [s["symbol"] for s in first] == ["AAPL"]
    assert [s["symbol"] for s in second] == (["AAPL"] if on else ["AAPL", "MSFT"])  # cached for 30 s when on


@pytest.mark.parametrize("on", [True, False])
def test_signal_explanations_preview_field(client, viewer, on):
    from waffle.models import Flag

    services.flag_set(name="redis_caching", enabled=False)
    flag = Flag.objects.get_or_create(name="signal_explanations")[0]
    if on:
        flag.users.add(viewer)
    checks.clear_local_cache()
    client.force_login(viewer)
    factories.article("Apple (NASDAQ: AAPL) beats estimates and raises guidance", analyse=True)
    body = client.get("/api/v1/signals/").json()["results"][0]
    assert ("explanation" in body) is on
    if on:
        assert body["explanation"].startswith("AAPL scores")


def test_a_running_worker_sees_a_switch_change_made_through_the_api_within_5_s(admin_client, httpserver, broker, worker):
    httpserver.expect_request("/feed").respond_with_data(rss(items(1)))
    Source.objects.create(url=httpserver.url_for("/feed"), name="f")
    assert checks.is_enabled("rss_polling")  # the worker's memo now holds "on"
    response = admin_client.patch("/api/v1/flags/rss_polling/", {"enabled": False}, content_type="application/json")
    assert response.status_code == 200
    changed = time.monotonic()
    deadline = changed + 5
    status = None
    while time.monotonic() < deadline:
        message = poll_due_sources.send()
        broker.join("feeds", timeout=5000, fail_fast=False)
        worker.join()
        status = Job.objects.get(pk=message.message_id).status
        if status == "skipped":
            break
        time.sleep(0.25)
    assert status == "skipped", "the worker still polled 5 s after the switch went off"
    assert not Analysis.objects.exists()
