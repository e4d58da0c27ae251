"""Reddit and X sources against local servers that answer as the platforms' APIs do: credentials and
User-Agent sent, posts stored as articles with their platform data, tickers by the social rules, the
platforms' rate limits honoured (every source of a paused platform waits, none is counted as failing),
X's pagination tokens kept between polls, and each kind's switch gating its polling."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone
from werkzeug import Response

from apps.articles import polling
from apps.articles.feeds import platforms
from apps.articles.models import Article, Source, SourceKind
from apps.articles.tickers import resolve_social

pytestmark = pytest.mark.django_db
NOW = datetime.now(UTC)


def _post(n, title, selftext="", score=10, comments=3, minutes_ago=5, link=""):
    return {"kind": "t3", "data": {
        "name": f"t3_p{n}", "id": f"p{n}", "title": title, "selftext": selftext, "score": score, "num_comments": comments,
        "permalink": f"/r/stocks/comments/p{n}/post_{n}/", "url": link or f"https://www.reddit.com/r/stocks/comments/p{n}/",
        "created_utc": (NOW - timedelta(minutes=minutes_ago)).timestamp(), "author": f"user{n}", "subreddit": "stocks"}}


@pytest.fixture
def reddit(httpserver, settings):
    settings.REDDIT_CLIENT_ID, settings.REDDIT_CLIENT_SECRET = "app-id", "app-secret"
    settings.REDDIT_USER_AGENT = "linux:newstunneler-test:1.0 (by /u/tester)"
    settings.REDDIT_API_URL = httpserver.url_for("/api")
    settings.REDDIT_TOKEN_URL = httpserver.url_for("/access_token")
    settings.FLAG_OVERRIDES = {"reddit_integration": True}
    httpserver.expect_request("/access_token", method="POST").respond_with_json(
        {"access_token": "tok-1", "token_type": "bearer", "expires_in": 3600})
    return httpserver


def test_reddit_posts_become_articles_with_their_score_comments_and_link(reddit):
    reddit.expect_request("/api/r/stocks/new", query_string={"limit": "100", "raw_json": "1"}).respond_with_json(
        {"kind": "Listing", "data": {"after": None, "children": [
            _post(1, "$NVDA earnings beat, raising my price target", "Data center revenue up 90%", score=420,
                  comments=77, link="https://example.com/nvda-results"),
            _post(2, "Apple pie recipe thread", "not a stock post", score=2, comments=0),
            {"kind": "t3", "data": {"title": "no permalink"}},
        ]}}, headers={"X-Ratelimit-Remaining": "99", "X-Ratelimit-Reset": "300", "X-Ratelimit-Used": "1"})
    source = Source.objects.create(kind=SourceKind.REDDIT, url="https://www.reddit.com/r/stocks", name="r/stocks")

    result = polling.source_poll(source=source)

    assert (result.status, result.new, result.skipped) == ("ok", 2, 1)
    post = Article.objects.get(url__endswith="/p1/post_1/")
    assert post.platform == "reddit" and post.url == "https://www.reddit.com/r/stocks/comments/p1/post_1/"
    assert post.summary == "Data center revenue up 90%"
    assert post.meta["score"] == 420 and post.meta["comments"] == 77 and post.meta["link"] == "https://example.com/nvda-results"
    assert post.tickers[0]["symbol"] == "NVDA" and post.tickers[0]["how"] == "cashtag"
    # A bare "Apple" in social text is weak evidence, below the policy's threshold.
    pie = Article.objects.get(url__endswith="/p2/post_2/")
    assert all(t["confidence"] < 0.75 for t in pie.tickers)
    listing = next(request for request, _ in reddit.log if request.path == "/api/r/stocks/new")
    assert listing.headers["Authorization"] == "bearer tok-1"
    assert listing.headers["User-Agent"] == "linux:newstunneler-test:1.0 (by /u/tester)"
    token = next(request for request, _ in reddit.log if request.path == "/access_token")
    assert token.authorization.username == "app-id" and token.form["grant_type"] == "client_credentials"
    # Social posts are not sent to the analysers.
    assert not result.analyses_queued

    source.refresh_from_db()
    assert source.cursor["newest_utc"] > 0 and source.consecutive_failures == 0
    again = polling.source_poll(source=source)  # the same listing: nothing newer than the cursor
    assert (again.status, again.new, again.duplicates) == ("ok", 0, 0)
    assert sum(1 for request, _ in reddit.log if request.path == "/access_token") == 1  # the token is reused


def test_reddit_search_sources_and_bad_addresses(reddit):
    reddit.expect_request("/api/r/stocks/search").respond_with_json({"data": {"children": [_post(3, "$TSLA deliveries")]}})
    source = Source.objects.create(kind=SourceKind.REDDIT, url="https://www.reddit.com/r/stocks/search?q=deliveries")
    assert polling.source_poll(source=source).new == 1
    request = next(request for request, _ in reddit.log if request.path == "/api/r/stocks/search")
    assert request.args["q"] == "deliveries" and request.args["restrict_sr"] == "1" and request.args["sort"] == "new"

    wrong = Source.objects.create(kind=SourceKind.REDDIT, url="https://example.com/r/stocks")
    result = polling.source_poll(source=wrong)
    wrong.refresh_from_db()
    assert result.status == "failed" and wrong.last_error_kind == "config" and "not a Reddit address" in wrong.last_error


def test_reddit_without_credentials_fails_clearly(httpserver, settings):
    settings.REDDIT_CLIENT_ID = ""
    source = Source.objects.create(kind=SourceKind.REDDIT, url="https://www.reddit.com/r/stocks")
    polling.source_poll(source=source)
    source.refresh_from_db()
    assert source.last_error_kind == "config" and "NT_REDDIT_CLIENT_ID" in source.last_error
    assert not httpserver.log


def test_a_spent_reddit_allowance_pauses_every_reddit_source_until_the_reset(reddit):
    reddit.expect_request("/api/r/stocks/new").respond_with_json(
        {"data": {"children": [_post(4, "$AMD guidance")]}},
        headers={"X-Ratelimit-Remaining": "0", "X-Ratelimit-Reset": "120"})
    first = Source.objects.create(kind=SourceKind.REDDIT, url="https://www.reddit.com/r/stocks")
    second = Source.objects.create(kind=SourceKind.REDDIT, url="https://www.reddit.com/r/investing")
    assert polling.source_poll(source=first).new == 1
    asked = len(reddit.log)

    result = polling.source_poll(source=second)

    second.refresh_from_db()
    assert result.status == "deferred" and len(reddit.log) == asked  # nothing sent while paused
    assert second.consecutive_failures == 0 and "rate limited" in second.last_warning
    assert timezone.now() + timedelta(seconds=100) < second.next_poll_at < timezone.now() + timedelta(seconds=125)


def test_a_429_defers_the_source_to_the_platforms_reset_time(reddit):
    reddit.expect_request("/api/r/stocks/new").respond_with_data("slow down", status=429, headers={"Retry-After": "90"})
    source = Source.objects.create(kind=SourceKind.REDDIT, url="https://www.reddit.com/r/stocks")
    result = polling.source_poll(source=source)
    source.refresh_from_db()
    assert result.status == "deferred" and source.consecutive_failures == 0
    assert timezone.now() + timedelta(seconds=80) < source.next_poll_at < timezone.now() + timedelta(seconds=95)
    assert platforms.paused_until("reddit") is not None
    assert "1 deferred (rate limited)" in polling.summary([result])


# --- X -------------------------------------------------------------------------------------------


def _tweets(ids, next_token=None, newest=None):
    body = {"data": [{"id": str(i), "text": f"$MSFT post number {i} cloud growth strong", "author_id": "42",
                      "created_at": (NOW - timedelta(minutes=i % 50)).isoformat().replace("+00:00", "Z"),
                      "public_metrics": {"like_count": i, "retweet_count": 1, "reply_count": 2, "quote_count": 0}}
                     for i in ids],
            "includes": {"users": [{"id": "42", "username": "cloudwatcher"}]},
            "meta": {"result_count": len(ids), **({"next_token": next_token} if next_token else {}),
                     **({"newest_id": newest} if newest else {})}}
    return body


@pytest.fixture
def xapi(httpserver, settings):
    settings.X_BEARER_TOKEN = "bearer-abc"
    settings.X_API_URL = httpserver.url_for("/x")
    settings.X_MAX_PAGES = 1
    settings.FLAG_OVERRIDES = {"twitter_integration": True}
    return httpserver


def test_x_search_keeps_its_pagination_token_and_then_its_since_id(xapi):
    pages = {"": _tweets([105, 104], next_token="page2", newest="105"), "page2": _tweets([103], newest="103"),
             "since": _tweets([106], newest="106")}

    def answer(request):
        key = "since" if request.args.get("since_id") == "105" else request.args.get("next_token", "")
        return Response(__import__("json").dumps(pages[key]), content_type="application/json",
                        headers={"x-rate-limit-remaining": "10", "x-rate-limit-reset": str(int(time.time()) + 900)})

    xapi.expect_request("/x/2/tweets/search/recent").respond_with_handler(answer)
    source = Source.objects.create(kind=SourceKind.X, url="https://x.com/search?q=%24MSFT%20lang%3Aen")

    assert polling.source_poll(source=source).new == 2  # one page (NT_X_MAX_PAGES=1): the walk is unfinished
    source.refresh_from_db()
    assert source.cursor == {"next_token": "page2", "walk_newest": "105"}
    assert polling.source_poll(source=source).new == 1  # goes on from page2, then the walk is done
    source.refresh_from_db()
    assert source.cursor == {"since_id": "105"}
    assert polling.source_poll(source=source).new == 1  # only newer posts
    requests = [request for request, _ in xapi.log]
    assert requests[0].args["query"] == "$MSFT lang:en" and requests[1].args["next_token"] == "page2"
    assert requests[2].args["since_id"] == "105" and "next_token" not in requests[2].args
    assert all(request.headers["Authorization"] == "Bearer bearer-abc" for request in requests)
    post = Article.objects.get(url="https://x.com/cloudwatcher/status/105")
    assert post.platform == "x" and post.meta["like"] == 105 and post.meta["author"] == "cloudwatcher"
    assert post.tickers[0]["symbol"] == "MSFT"


def test_x_rate_limit_headers_pause_until_the_reset_time(xapi):
    reset = int(time.time()) + 600
    xapi.expect_request("/x/2/lists/77/tweets").respond_with_data(
        '{"title": "Too Many Requests"}', status=429, headers={"x-rate-limit-remaining": "0", "x-rate-limit-reset": str(reset)})
    source = Source.objects.create(kind=SourceKind.X, url="https://x.com/i/lists/77")
    result = polling.source_poll(source=source)
    source.refresh_from_db()
    assert result.status == "deferred" and source.consecutive_failures == 0
    assert abs(source.next_poll_at.timestamp() - reset) < 2


def test_each_kind_is_polled_only_while_its_switch_is_on(settings):
    feed = Source.objects.create(url="https://wire.example.com/rss")
    social = Source.objects.create(kind=SourceKind.REDDIT, url="https://www.reddit.com/r/stocks")
    settings.FLAG_OVERRIDES = {"reddit_integration": False}
    assert list(Source.objects.due()) == [feed]
    settings.FLAG_OVERRIDES = {"reddit_integration": True}
    from apps.flags.checks import clear_local_cache

    clear_local_cache()
    assert set(Source.objects.due()) == {feed, social}


def test_a_source_url_that_does_not_fit_its_kind_is_a_400_naming_the_field(admin_client):
    response = admin_client.post("/api/v1/sources/", {"kind": "x", "url": "https://x.com/elonmusk"},
                                 content_type="application/json")
    assert response.status_code == 400 and "not an X search or list" in response.json()["errors"]["url"][0]
    ok = admin_client.post("/api/v1/sources/", {"kind": "reddit", "url": "https://www.reddit.com/r/wallstreetbets"},
                           content_type="application/json")
    assert ok.status_code == 201 and ok.json()["kind"] == "reddit"


@pytest.mark.parametrize(("text", "strong"), [
    ("$AAPL to the moon", {"AAPL"}),
    ("Apple pie and Target practice this weekend", set()),
    ("Apple just keeps winning, Apple services margins are huge", {"AAPL"}),
    ("Nvidia Corp. guidance beat", {"NVDA"}),
    ("YOLO DD on GME shares tomorrow", set()),
])
def test_social_text_trusts_cashtags_and_wants_more_for_bare_words(text, strong):
    assert {m.symbol for m in resolve_social(text) if m.confidence >= 0.75} == strong
