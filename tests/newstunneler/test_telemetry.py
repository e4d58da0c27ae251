"""Every pipeline metric family: perform the action, then read the exposition (the text /metrics serves)."""

import json
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from apps.articles import polling, services
from apps.articles.feeds import Entry
from apps.flags import services as flags
from apps.jobs.enqueue import enqueue
from apps.signals import notify
from apps.signals.models import WebhookEndpoint
from tests import factories
from tests.articles.fake_openai import VALID_PLAN, configure, respond
from tests.articles.feedfactory import rss

pytestmark = pytest.mark.django_db


def exposed(name: str, **labels) -> float:
    """The value of one sample in the exposition text (0 when the series does not exist yet)."""
    for family in text_string_to_metric_families(generate_latest(REGISTRY).decode()):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return sample.value
    return 0.0


class Delta:
    """How much a sample grew while the block ran."""

    def __init__(self, name: str, **labels):
        self.name, self.labels = name, labels

    def __enter__(self):
        self.before = exposed(self.name, **self.labels)
        return self

    def __exit__(self, *exc):
        self.value = exposed(self.name, **self.labels) - self.before


def test_feed_fetches_by_outcome_with_duration_and_feed_errors_by_kind(httpserver):
    httpserver.expect_request("/ok.xml").respond_with_data(
        rss([{"title": "Apple beats", "link": "https://n.example.com/1", "date": datetime(2026, 11, 20, tzinfo=UTC)}]),
        content_type="application/rss+xml")
    httpserver.expect_request("/down.xml").respond_with_data("no", status=503)
    ok, down = factories.source(url=httpserver.url_for("/ok.xml")), factories.source(url=httpserver.url_for("/down.xml"))
    with Delta("newstunneler_feed_fetches_total", outcome="ok") as fetched, \
            Delta("newstunneler_feed_fetches_total", outcome="failed") as failed, \
            Delta("newstunneler_feed_fetch_seconds_count", outcome="ok") as timed:
        results = polling.sources_poll(sources=[ok, down])
    assert (fetched.value, failed.value, timed.value) == (1, 1, 1)
    kind = results[1].error.split(":")[0]
    assert exposed("newstunneler_feed_errors_total", kind=kind) >= 1


def test_articles_ingested_and_duplicates():
    entry = Entry(url="https://news.example.com/metric-story", title="Tesla recalls cars", summary="",
                  published_at=datetime(2026, 11, 20, 12, tzinfo=UTC))
    with Delta("newstunneler_articles_ingested_total") as new, Delta("newstunneler_article_duplicates_total") as dup:
        services.article_ingest(source=None, entries=[entry], fetched_at=datetime(2026, 11, 20, 13, tzinfo=UTC))
        services.article_ingest(source=None, entries=[entry], fetched_at=datetime(2026, 11, 20, 14, tzinfo=UTC))
    assert (new.value, dup.value) == (1, 1)


def test_analyses_by_provider_and_outcome_llm_tokens_and_cost(httpserver, settings):
    article = factories.article("Apple (NASDAQ: AAPL) beats estimates and raises guidance")
    with Delta("newstunneler_analyses_total", provider="offline", outcome="ok") as offline, \
            Delta("newstunneler_analysis_seconds_count", provider="offline") as timed:
        services.article_analyze(article=article, provider="offline")
    assert (offline.value, timed.value) == (1, 1)
    with Delta("newstunneler_analyses_total", provider="llm", outcome="failed") as refused:
        with pytest.raises(Exception, match="no LLM configured"):
            services.article_analyze(article=article, provider="llm")
    assert refused.value == 1
    configure(settings, httpserver)
    respond(httpserver, json.dumps(VALID_PLAN))
    with Delta("newstunneler_llm_tokens_total", model="gpt-4o-mini", direction="prompt") as prompt, \
            Delta("newstunneler_llm_tokens_total", model="gpt-4o-mini", direction="completion") as completion, \
            Delta("newstunneler_llm_cost_usd_total", model="gpt-4o-mini") as cost:
        services.article_analyze(article=article, provider="llm")
    assert (prompt.value, completion.value) == (120, 80) and cost.value == pytest.approx(0.000066)


def test_signals_by_label():
    with Delta("newstunneler_signals_total", label="Watch") as watch, \
            Delta("newstunneler_signals_total", label="Opportunity") as opportunity, \
            Delta("newstunneler_signals_total", label="High-Conviction") as high, \
            Delta("newstunneler_signals_total", label="Ignore") as ignore:
        factories.article("Microsoft (NASDAQ: MSFT) wins record $10 billion cloud contract", analyse=True)
    assert watch.value + opportunity.value + high.value + ignore.value == 1


@pytest.mark.django_db(transaction=True)
def test_notifications_by_channel_and_outcome(httpserver, run_jobs):
    flags.flag_set(name="webhook_notifications", enabled=True)
    httpserver.expect_request("/ok").respond_with_data("ok")
    httpserver.expect_request("/bad").respond_with_data("no", status=500)
    good = WebhookEndpoint.objects.create(name="a", url=httpserver.url_for("/ok"), event_types=["signal.created"])
    bad = WebhookEndpoint.objects.create(name="b", url=httpserver.url_for("/bad"), event_types=["signal.created"])
    with Delta("newstunneler_notifications_total", channel="webhook", outcome="sent") as sent, \
            Delta("newstunneler_notifications_total", channel="webhook", outcome="failed") as failed, \
            Delta("newstunneler_notifications_total", channel="stream", outcome="sent") as streamed:
        event = notify.new_event("signal.created", {"symbol": "AAPL"})
        notify.deliver(good.pk, event)
        with pytest.raises(notify.DeliveryFailed):
            notify.deliver(bad.pk, event)
        notify.publish({"id": 1, "symbol": "AAPL"})
    assert (sent.value, failed.value, streamed.value) == (1, 1, 1)


@pytest.mark.django_db(transaction=True)
def test_errors_by_component_and_type(broker, worker, run_jobs):
    from tests.jobs import actors  # noqa: F401 - registers always_fails

    with Delta("newstunneler_errors_total", component="jobs", type="RuntimeError") as errors:
        enqueue("always_fails", "for the metric")
        run_jobs()
    assert errors.value == 3  # every failed attempt (max_retries=2)


def test_scrape_time_gauges_for_llm_spend_and_failing_sources(settings):
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from apps.articles.analysis import budget
    from apps.articles.models import Source

    settings.LLM_SPEND_ALERT_USD = 0.5
    budget.record(budget.Usage("gpt-4o-mini", 1000, 100, Decimal("0.75")))
    failing = factories.source()
    Source.objects.filter(pk=failing.pk).update(consecutive_failures=3, last_success_at=timezone.now() - timedelta(hours=7))
    assert exposed("newstunneler_llm_spend_today_usd") == pytest.approx(0.75)
    assert exposed("newstunneler_llm_spend_alert_usd") == 0.5
    assert exposed("newstunneler_sources_failing") == 1
    assert 7 * 3600 - 5 < exposed("newstunneler_source_longest_failure_seconds") < 7 * 3600 + 60
