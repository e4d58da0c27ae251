"""Feed to signals through the real broker semantics: StubBroker + an in-process Worker."""

import json
from datetime import UTC, datetime

import pytest
from django.utils import timezone

from apps.articles.models import Analysis, Article, Source
from apps.articles.tasks import poll_due_sources
from apps.signals.models import Signal
from tests.articles.fake_openai import VALID_PLAN, configure, respond
from tests.articles.feedfactory import rss

pytestmark = pytest.mark.django_db(transaction=True)

NEWS = [
    {"title": "Apple (NASDAQ: AAPL) beats estimates and raises guidance; record iPhone revenue",
     "link": "https://www.prnewswire.com/news/apple-q4", "summary": "EPS rose 20% to $1.40, topping estimates.",
     "date": datetime(2026, 11, 20, 13, 30, tzinfo=UTC)},
    {"title": "Local bakery opens second shop", "link": "https://www.prnewswire.com/news/bakery",
     "date": datetime(2026, 11, 20, 14, 0, tzinfo=UTC)},
]


def _wire(httpserver):
    httpserver.expect_request("/wire").respond_with_data(rss(NEWS), content_type="application/rss+xml")
    # prnewswire credibility for a loopback URL: set explicitly, as an admin would.
    return Source.objects.create(url=httpserver.url_for("/wire"), name="Wire", credibility=5)


def test_feed_to_signals_offline(httpserver, broker, worker, run_jobs):
    _wire(httpserver)
    poll_due_sources.send()
    run_jobs()
    assert Article.objects.count() == 2
    strong = Article.objects.get(title__startswith="Apple")
    assert strong.score.total >= 12
    assert Article.objects.get(title__startswith="Local").score.total < 12
    assert not Analysis.objects.filter(article__title__startswith="Local").exists()
    assert strong.analysis.provider == "offline" and strong.analysis.stance == "BULLISH"
    signal = Signal.objects.get()
    assert (signal.symbol, signal.t, signal.article_id) == ("AAPL", NEWS[0]["date"], strong.pk)
    assert signal.label in ("High-Conviction", "Opportunity") and signal.score > 60
    assert any(r["factor"] == "topic:guidance_up" for r in signal.reasons)


def test_feed_to_signals_with_the_llm(httpserver, broker, worker, run_jobs, settings):
    configure(settings, httpserver)
    respond(httpserver, json.dumps({**VALID_PLAN, "tickers": ["AAPL", "MSFT"]}))
    _wire(httpserver)
    poll_due_sources.send()
    run_jobs()
    analysis = Analysis.objects.get()
    assert (analysis.provider, analysis.model, analysis.prompt_tokens) == ("llm", "gpt-4o-mini", 120)
    assert analysis.plan["thesis"] == "Beat and raise."
    assert set(Signal.objects.values_list("symbol", flat=True)) == {"AAPL", "MSFT"}


def test_rejected_llm_output_ends_as_a_dead_letter_without_retries(httpserver, broker, worker, run_jobs, settings):
    configure(settings, httpserver)
    respond(httpserver, "not json", "still not json")
    _wire(httpserver)
    poll_due_sources.send()
    run_jobs()
    assert not Analysis.objects.exists() and not Signal.objects.exists()
    dead = broker.dead_letters
    assert [m.actor_name for m in dead] == ["analyze_article"]
    assert dead[0].options.get("retries", 0) == 0


def test_one_bad_source_never_stops_the_others(httpserver, broker, worker, run_jobs):
    httpserver.expect_request("/broken").respond_with_data("<html>", status=200)
    Source.objects.create(url=httpserver.url_for("/broken"), name="Broken")
    good = _wire(httpserver)
    poll_due_sources.send()
    run_jobs()
    assert Article.objects.filter(source=good).count() == 2
    broken = Source.objects.get(name="Broken")
    assert broken.last_error_kind == "parse" and broken.next_poll_at > timezone.now()


def test_rerunning_a_poll_adds_nothing(httpserver, broker, worker, run_jobs):
    source = _wire(httpserver)
    poll_due_sources.send()
    run_jobs()
    Source.objects.filter(pk=source.pk).update(next_poll_at=None)
    poll_due_sources.send()
    run_jobs()
    assert Article.objects.count() == 2 and Signal.objects.count() == 1
