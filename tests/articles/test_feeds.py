"""Polling real feeds served on loopback: formats, failures, limits, caching, dedupe and dates."""

import gzip
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from apps.articles import polling
from apps.articles.models import Article, Source
from tests.articles.feedfactory import atom, items, rss

pytestmark = pytest.mark.django_db


def _source(httpserver, path="/feed", **kwargs):
    return Source.objects.create(url=httpserver.url_for(path), name=path, **kwargs)


def _poll(source):
    result = polling.source_poll(source=source)
    source.refresh_from_db()
    return result


def test_rss_items_become_scored_articles(httpserver):
    httpserver.expect_request("/feed").respond_with_data(
        rss([{"title": "Apple (NASDAQ: AAPL) beats estimates & raises guidance", "link": "https://x.example.com/a?utm_source=rss",
              "summary": "<p>Revenue <b>rose</b> 12%.</p>", "date": datetime(2026, 11, 20, 12, 0, tzinfo=UTC)}]),
        content_type="application/rss+xml",
    )
    source = _source(httpserver)
    result = _poll(source)
    assert (result.status, result.new) == ("ok", 1)
    article = Article.objects.get()
    assert article.url == "https://x.example.com/a"
    assert article.title == "Apple (NASDAQ: AAPL) beats estimates & raises guidance"
    assert article.summary == "Revenue rose 12%."
    assert article.published_at == datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    assert article.symbols == ["AAPL"]
    assert article.score.catalyst > 0 and article.score.sentiment > 0
    assert article.score.novelty == 5  # the first time this story is seen
    assert source.last_success_at and source.consecutive_failures == 0 and source.feed_title == "Test Wire"


def test_novelty_falls_for_a_story_seen_before(httpserver, django_capture_on_commit_callbacks):
    httpserver.expect_ordered_request("/feed").respond_with_data(rss([
        {"title": "Acme wins large defense contract from the Army", "link": "https://a.example.com/1"},
        {"title": "Acme wins large defense contract from the Navy", "link": "https://a.example.com/2"}]))
    httpserver.expect_ordered_request("/feed").respond_with_data(rss([
        {"title": "Acme wins large defense contract from the Air Force", "link": "https://a.example.com/3"}]))
    source = _source(httpserver)
    for _ in range(2):  # each poll commits (its titles reach the novelty index as they commit)
        with django_capture_on_commit_callbacks(execute=True):
            _poll(source)
    novelty = dict(Article.objects.values_list("title", "score__novelty"))
    assert novelty["Acme wins large defense contract from the Army"] == 5
    assert 0 < novelty["Acme wins large defense contract from the Navy"] < 5  # like the Army story of its batch
    assert 0 < novelty["Acme wins large defense contract from the Air Force"] < 5  # like the earlier poll's stories


def test_atom_feed(httpserver):
    httpserver.expect_request("/atom").respond_with_data(
        atom([{"title": "Tesla recall widens", "link": "https://a.example.com/1", "date": "2026-11-20T09:30:00Z"}]),
        content_type="application/atom+xml",
    )
    assert _poll(_source(httpserver, "/atom")).new == 1
    assert Article.objects.get().published_at == datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def test_malformed_feed_with_entries_is_ingested_with_a_warning(httpserver):
    broken = rss(items(2)).replace(b"</channel></rss>", b"<unclosed></channel>")
    httpserver.expect_request("/feed").respond_with_data(broken, content_type="application/rss+xml")
    source = _source(httpserver)
    result = _poll(source)
    assert (result.status, result.new) == ("ok", 2)
    assert "mismatched tag" in source.last_warning and source.last_error == ""


def test_malformed_feed_without_entries_is_an_error_on_the_source(httpserver):
    httpserver.expect_request("/feed").respond_with_data(b"<html><body>Not a feed <p></body>", content_type="text/html")
    source = _source(httpserver)
    result = _poll(source)
    assert result.status == "failed"
    assert source.last_error_kind == "parse" and source.consecutive_failures == 1
    assert not Article.objects.exists()


def test_conditional_get_304_is_a_success_with_no_work(httpserver):
    httpserver.expect_ordered_request("/feed").respond_with_data(
        rss(items(1)), headers={"ETag": '"v1"', "Last-Modified": "Fri, 20 Nov 2026 10:00:00 GMT"}
    )
    httpserver.expect_ordered_request("/feed", headers={"If-None-Match": '"v1"', "If-Modified-Since": "Fri, 20 Nov 2026 10:00:00 GMT"}).respond_with_data("", status=304)
    source = _source(httpserver)
    assert _poll(source).new == 1
    assert source.etag == '"v1"'
    result = _poll(source)
    assert result.status == "not_modified"
    assert source.consecutive_failures == 0 and Article.objects.count() == 1
    httpserver.check_assertions()


def test_redirect_loop_is_refused(httpserver):
    httpserver.expect_request("/loop").respond_with_response(Response(status=302, headers={"Location": "/loop"}))
    source = _source(httpserver, "/loop")
    _poll(source)
    assert source.last_error_kind == "redirects"
    assert "more than 5 redirects" in source.last_error


def test_a_redirect_is_followed(httpserver):
    httpserver.expect_request("/old").respond_with_response(Response(status=301, headers={"Location": "/new"}))
    httpserver.expect_request("/new").respond_with_data(rss(items(1)))
    assert _poll(_source(httpserver, "/old")).new == 1


def test_oversized_feed_is_refused(httpserver, settings):
    settings.FEED_MAX_BYTES = 2000
    httpserver.expect_request("/big").respond_with_data(rss(items(50)))
    source = _source(httpserver, "/big")
    _poll(source)
    assert source.last_error_kind == "too_large"


def test_gzip_bomb_is_capped_on_decoded_size(httpserver, settings):
    settings.FEED_MAX_BYTES = 10_000
    body = gzip.compress(b"<rss>" + b" " * 1_000_000 + b"</rss>")
    httpserver.expect_request("/bomb").respond_with_data(body, headers={"Content-Encoding": "gzip"})
    source = _source(httpserver, "/bomb")
    _poll(source)
    assert len(body) < 10_000
    assert source.last_error_kind == "too_large"


def test_gzip_feed_is_decoded(httpserver):
    httpserver.expect_request("/gz").respond_with_data(
        gzip.compress(rss(items(3))), headers={"Content-Encoding": "gzip"}, content_type="application/rss+xml"
    )
    assert _poll(_source(httpserver, "/gz")).new == 3


def test_slow_server_times_out(httpserver, settings):
    settings.FEED_READ_TIMEOUT = 0.3

    def slow(request):
        time.sleep(1.0)
        return Response(rss(items(1)))

    httpserver.expect_request("/slow").respond_with_handler(slow)
    source = _source(httpserver, "/slow")
    _poll(source)
    assert source.last_error_kind == "timeout"


def test_http_error_status_is_recorded(httpserver):
    httpserver.expect_request("/gone").respond_with_data("nope", status=410)
    source = _source(httpserver, "/gone")
    _poll(source)
    assert (source.last_error_kind, source.last_error) == ("http_status", f"HTTP 410 from {source.url}")


def test_private_addresses_are_refused_unless_allowed(httpserver, settings):
    settings.ALLOW_PRIVATE_URLS = False
    httpserver.expect_request("/feed").respond_with_data(rss(items(1)))
    source = _source(httpserver)
    _poll(source)
    assert source.last_error_kind == "blocked_address"
    assert "127.0.0.1" in source.last_error and "private, loopback" in source.last_error
    assert not Article.objects.exists()
    assert len(httpserver.log) == 0  # refused before any request was made


def test_redirect_to_a_private_address_is_refused(httpserver, settings, monkeypatch):
    from newstunneler import netguard

    real_check = netguard.check_url

    def public_first_hop(url, allow_private=None):
        # The first URL stands for a public host; the redirect target is checked for real.
        return None if url.endswith("/public") else real_check(url, allow_private=False)

    monkeypatch.setattr("apps.articles.feeds.check_url", public_first_hop)
    httpserver.expect_request("/public").respond_with_response(
        Response(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    )
    source = _source(httpserver, "/public")
    _poll(source)
    assert source.last_error_kind == "blocked_address" and "169.254.169.254" in source.last_error


def test_the_same_story_from_two_sources_is_stored_once(httpserver):
    story = {"title": "Acme Corp to acquire Widget Inc for $2 billion", "link": "https://one.example.com/acme"}
    httpserver.expect_request("/one").respond_with_data(rss([story]))
    httpserver.expect_request("/two").respond_with_data(
        rss([{**story, "title": "ACME Corp to Acquire Widget Inc. for $2 Billion", "link": "https://two.example.com/x"}])
    )
    first, second = _poll(_source(httpserver, "/one")), _poll(_source(httpserver, "/two"))
    assert (first.new, second.new, second.duplicates) == (1, 0, 1)


def test_same_url_with_tracking_parameters_is_one_article(httpserver):
    httpserver.expect_request("/feed").respond_with_data(rss([
        {"title": "First", "link": "https://Example.com/a?utm_medium=x#top"},
        {"title": "Second title", "link": "https://example.com/a?fbclid=1"},
    ]))
    result = _poll(_source(httpserver))
    assert (result.new, result.duplicates) == (1, 1)


def test_naive_missing_and_future_dates(httpserver):
    future = (timezone.now() + timedelta(days=3)).strftime("%a, %d %b %Y %H:%M:%S +0000")
    httpserver.expect_request("/feed").respond_with_data(rss([
        {"title": "Naive date story", "link": "https://d.example.com/1", "date": "2026-11-20T08:00:00"},
        {"title": "Missing date story", "link": "https://d.example.com/2"},
        {"title": "Future date story", "link": "https://d.example.com/3", "date": future},
    ]))
    before = timezone.now()
    _poll(_source(httpserver))
    after = timezone.now()
    dates = {a.title: a.published_at for a in Article.objects.all()}
    assert dates["Naive date story"] == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert before - timedelta(seconds=1) <= dates["Missing date story"] <= after
    assert before - timedelta(seconds=1) <= dates["Future date story"] <= after


def test_failures_back_off_exponentially_capped_and_success_resets(httpserver):
    httpserver.expect_request("/flaky").respond_with_data("down", status=503)
    source = _source(httpserver, "/flaky", poll_interval_minutes=15)
    delays = []
    for _ in range(7):
        _poll(source)
        delays.append(round((source.next_poll_at - source.last_polled_at).total_seconds() / 60))
    assert delays == [30, 60, 120, 240, 360, 360, 360]
    httpserver.clear()
    httpserver.expect_request("/flaky").respond_with_data(rss(items(1)))
    _poll(source)
    assert source.consecutive_failures == 0 and source.last_error == ""
    assert source.next_poll_at - source.last_polled_at == timedelta(minutes=15)


@pytest.mark.parametrize("bad", ["0000-00-00T00:00:00Z", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-14:00"])
def test_one_unusable_date_dates_that_entry_at_fetch_time_and_keeps_the_others(httpserver, bad):
    httpserver.expect_request("/feed").respond_with_data(atom([
        {"title": "Good story one", "link": "https://d.example.com/1", "date": "2026-11-20T08:00:00Z"},
        {"title": "Story with a broken date", "link": "https://d.example.com/2", "date": bad},
        {"title": "Good story two", "link": "https://d.example.com/3", "date": "2026-11-20T09:00:00Z"},
    ]), content_type="application/atom+xml")
    source = _source(httpserver)
    before = timezone.now()
    result = _poll(source)
    after = timezone.now()
    assert (result.status, result.new) == ("ok", 3)
    dates = {a.title: a.published_at for a in Article.objects.all()}
    assert dates["Good story one"] == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert dates["Good story two"] == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    assert before - timedelta(seconds=1) <= dates["Story with a broken date"] <= after
    assert source.last_warning.startswith("1 entry dated at fetch time (first: ")
    assert bad in source.last_warning and source.consecutive_failures == 0


def test_an_ancient_date_is_dated_at_fetch_time_so_retention_keeps_the_article(httpserver, settings):
    from apps.signals.services import retention_cleanup

    httpserver.expect_request("/feed").respond_with_data(atom([
        {"title": "Placeholder-dated story", "link": "https://d.example.com/old", "date": "0001-01-01T00:00:00Z"},
        {"title": "Epoch-dated story", "link": "https://d.example.com/epoch", "date": "1970-01-01T00:00:00Z"},
    ]), content_type="application/atom+xml")
    source = _source(httpserver)
    _poll(source)
    assert all(a.published_at.year == timezone.now().year for a in Article.objects.all())
    assert source.last_warning.startswith("2 entries dated at fetch time (first: date before 1995 '0001-01-01")
    retention_cleanup()
    assert Article.objects.count() == 2


def test_hostile_entries_lose_only_themselves(httpserver):
    """Each of these once failed the whole feed (or would on PostgreSQL): a NUL in a title, character
    references to a surrogate or to nothing, a link with an impossible port, a link too long to store."""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Hostile</title>'
        '<item><title>Surrogate &#xD800; and &#55296; and &#0; and &#99999999; in a title</title>'
        '<link>https://h.example.com/1</link><description>x&#xDFFF;y</description></item>'
        '<item><title>Bad port</title><link>https://h.example.com:99999/2</link></item>'
        f'<item><title>Too long</title><link>https://h.example.com/{"a" * 2100}</link></item>'
        '<item><title>Plain good story</title><link>https://h.example.com/4</link></item>'
        '</channel></rss>'
    ).encode()
    httpserver.expect_request("/feed").respond_with_data(body, content_type="application/rss+xml")
    httpserver.expect_request("/nul").respond_with_data(
        rss([{"title": "Title with a NUL \x00 inside", "link": "https://h.example.com/5"},
             {"title": "Neighbour of the NUL", "link": "https://h.example.com/6"}]), content_type="application/rss+xml")
    source, nul_source = _source(httpserver), _source(httpserver, "/nul")
    result, nul_result = _poll(source), _poll(nul_source)
    assert (result.status, result.new, result.skipped) == ("ok", 2, 2)
    titles = set(Article.objects.values_list("title", flat=True))
    assert "Plain good story" in titles
    assert "Surrogate \ufffd and \ufffd and \ufffd and \ufffd in a title" in titles
    assert "1 entry not stored (unusable URL 'https://h.example.com:99999/2'" in source.last_warning
    assert nul_result.status == "ok" and nul_result.new == 2
    assert {"Title with a NUL inside", "Neighbour of the NUL"} <= set(Article.objects.values_list("title", flat=True))


_REFUSE = {  # a row the database itself refuses (the feed layer lets nothing through that a column would)
    "sqlite": ["CREATE TRIGGER refuse_title BEFORE INSERT ON articles_article WHEN NEW.title = 'Refused story' "
               "BEGIN SELECT RAISE(ABORT, 'title refused by a test trigger'); END"],
    "postgresql": [
        "CREATE FUNCTION refuse_title() RETURNS trigger AS $$ BEGIN IF NEW.title = 'Refused story' THEN "
        "RAISE EXCEPTION 'title refused by a test trigger'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
        "CREATE TRIGGER refuse_title BEFORE INSERT ON articles_article FOR EACH ROW EXECUTE FUNCTION refuse_title()"],
}
_UNREFUSE = {"sqlite": ["DROP TRIGGER refuse_title"],
             "postgresql": ["DROP TRIGGER refuse_title ON articles_article", "DROP FUNCTION refuse_title()"]}


@pytest.mark.django_db(transaction=True)
def test_a_row_the_database_refuses_loses_only_itself_and_a_poll_needs_no_savepoint_otherwise(httpserver):
    """A poll stores its batch without a savepoint around it (two round trips fewer): when the database
    refuses a row, that attempt is rolled back whole and the second stores the rest, row by row, naming
    the refused one; nothing of the first attempt is left behind."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.articles.models import ArticleScore, ArticleTicker
    from apps.jobs.models import Job

    httpserver.expect_request("/feed").respond_with_data(rss([
        {"title": "Apple (NASDAQ: AAPL) beats estimates and raises guidance", "link": "https://r.example.com/1"},
        {"title": "Refused story", "link": "https://r.example.com/2"},
        {"title": "Pfizer (NYSE: PFE) wins FDA approval for new therapy", "link": "https://r.example.com/3"}]))
    httpserver.expect_request("/plain").respond_with_data(rss([
        {"title": "Tesla (NASDAQ: TSLA) recalls its cars", "link": "https://r.example.com/4"}]))
    with connection.cursor() as cursor:
        for statement in _REFUSE[connection.vendor]:
            cursor.execute(statement)
    try:
        plain = _source(httpserver, "/plain")
        with CaptureQueriesContext(connection) as queries:
            assert _poll(plain).new == 1
        assert not [q for q in queries.captured_queries if "SAVEPOINT" in q["sql"].upper()]
        source = _source(httpserver)
        result = _poll(source)
    finally:
        with connection.cursor() as cursor:
            for statement in _UNREFUSE[connection.vendor]:
                cursor.execute(statement)
    assert (result.status, result.new) == ("ok", 2)
    assert "1 entry not stored (the database refused 'https://r.example.com/2'" in source.last_warning
    assert "title refused by a test trigger" in source.last_warning
    stored = Article.objects.filter(source=source)
    assert sorted(stored.values_list("url", flat=True)) == ["https://r.example.com/1", "https://r.example.com/3"]
    assert source.articles_ingested == 2 and source.consecutive_failures == 0
    # One score, one set of ticker rows and at most one analysis job per stored article: none twice.
    assert ArticleScore.objects.filter(article__source=source).count() == 2
    assert sorted(ArticleTicker.objects.filter(article__source=source).values_list("symbol", flat=True)) == ["AAPL", "PFE"]
    ids = {str(pk) for pk in stored.values_list("pk", flat=True)}
    analyses = [job.args[0] for job in Job.objects.filter(actor="analyze_article")]
    assert len(analyses) == len(set(analyses)) and {str(a) for a in analyses} <= ids | {str(plain.articles.get().pk)}
