"""Operator commands, run through call_command as an operator would run them."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from dramatiq import Message

from apps.articles.models import Analysis, Article, ArticleScore, ScoringPolicy, Source
from apps.signals.models import Signal
from tests import factories
from tests.articles.feedfactory import items, rss

pytestmark = pytest.mark.django_db


def run(*args, stdin=None, **kwargs):
    out, err = io.StringIO(), io.StringIO()
    if stdin is not None:
        kwargs["input_stream"] = stdin
    call_command(*args, stdout=out, stderr=err, **kwargs)
    return out.getvalue() + err.getvalue()


def test_add_source(settings):
    output = run("add_source", "https://www.businesswire.com/feed", "--name", "Business Wire")
    source = Source.objects.get()
    assert f"Added source {source.pk}: Business Wire (rss, credibility 5.0" in output
    with pytest.raises(CommandError, match="exists already"):
        run("add_source", "https://www.businesswire.com/feed")


def test_add_source_refuses_private_and_bad_urls(settings):
    settings.ALLOW_PRIVATE_URLS = False
    with pytest.raises(CommandError, match="private, loopback"):
        run("add_source", "http://192.168.1.10/feed")
    with pytest.raises(CommandError, match="only http and https"):
        run("add_source", "file:///etc/passwd")
    assert not Source.objects.exists()


def test_add_source_of_a_kind_checks_its_url_first(settings):
    settings.ALLOW_PRIVATE_URLS = False  # (a DNS lookup would come next: the kind's rule is said before it)
    with pytest.raises(CommandError, match="not an X search or list"):
        run("add_source", "https://x.com/elonmusk", "--kind", "x")
    settings.ALLOW_PRIVATE_URLS = True
    assert "(reddit, credibility" in run("add_source", "https://www.reddit.com/r/stocks", "--kind", "reddit")
    assert Source.objects.get().kind == "reddit"


def test_add_source_dry_run():
    assert "Dry run: nothing was saved." in run("add_source", "https://example.com/feed", "--dry-run")
    assert not Source.objects.exists()


def test_poll_feeds_sync_prints_each_source(httpserver):
    httpserver.expect_request("/good").respond_with_data(rss(items(3)))
    httpserver.expect_request("/bad").respond_with_data("down", status=500)
    good = Source.objects.create(url=httpserver.url_for("/good"), name="Good")
    bad = Source.objects.create(url=httpserver.url_for("/bad"), name="Bad")
    output = run("poll_feeds", "--sync")
    assert f"ok Good (id {good.pk}): 3 new, 0 duplicate(s)" in output
    assert f"FAILED Bad (id {bad.pk}): http_status: HTTP 500" in output
    assert "2 source(s): 1 ok, 0 not modified, 1 failed; 3 new article(s)." in output
    assert "[2/2]" in output


def test_poll_feeds_queues_due_sources(broker, django_capture_on_commit_callbacks):
    due = factories.source()
    factories.source(enabled=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert "Queued 1 poll(s)." in run("poll_feeds")
    assert [Message.decode(m).args for m in broker.queues["feeds"].queue] == [(due.pk,)]


def test_poll_feeds_unknown_source():
    with pytest.raises(CommandError, match="no source with id 999"):
        run("poll_feeds", "--source", "999", "--sync")


def test_backfill_scores_uses_the_current_weights_and_resumes():
    articles = [factories.article(f"Acme wins contract number {i}") for i in range(3)]
    policy = ScoringPolicy.current()
    policy.weight_catalyst = 0
    policy.save()
    output = run("backfill_scores", "--batch-size", "2", "--start-id", str(articles[0].pk))
    assert "Re-scoring 2 article(s)" in output and f"last id {articles[2].pk}" in output
    scores = {s.article_id: s for s in ArticleScore.objects.all()}
    assert scores[articles[0].pk].details == articles[0].score.details  # before --start-id: untouched
    for article in articles[1:]:
        new = scores[article.pk]
        assert new.catalyst > 0
        assert new.total == pytest.approx(new.novelty + new.credibility + 5 * abs(new.sentiment) + new.liquidity)


def test_backfill_scores_rejects_a_bad_date():
    with pytest.raises(CommandError, match="--since must be a date"):
        run("backfill_scores", "--since", "last week")


def test_backfill_analysis_sync_then_signals():
    strong = factories.article("Apple (NASDAQ: AAPL) beats estimates, raises guidance on record revenue")
    factories.article("Bakery opens")
    assert "1 article(s) at or above 12.0 without an analysis." in run("backfill_analysis", "--sync")
    assert Analysis.objects.get().article_id == strong.pk
    Signal.objects.all().delete()
    assert "1 signal(s) written from 1 analysis(es)." in run("backfill_signals")
    assert "1 signal(s) written" in run("backfill_signals")  # idempotent upsert
    assert Signal.objects.count() == 1
    assert "0 article(s)" in run("backfill_analysis", "--sync")  # resumable: nothing left


def test_analyze_text_human_and_json():
    assert run("analyze_text", "Apple (NASDAQ: AAPL) beats estimates").startswith("BULLISH")
    output = run("analyze_text", "--stdin", "--json", stdin=io.StringIO("Tesla shares plunge after recall\n\n$MSFT flat\n"))
    lines = [json.loads(line) for line in output.splitlines()]
    assert [(l["stance"], l["tickers"]) for l in lines] == [("BEARISH", ["TSLA"]), ("NEUTRAL", ["MSFT"])]
    assert not Article.objects.exists()


def test_analyze_text_needs_text_or_stdin():
    with pytest.raises(CommandError, match="either a TEXT argument or --stdin"):
        run("analyze_text")
