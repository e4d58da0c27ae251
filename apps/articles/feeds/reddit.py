"""Reddit sources (kind "reddit"), read through Reddit's OAuth API with an app's credentials
(client-credentials grant: NT_REDDIT_CLIENT_ID, NT_REDDIT_CLIENT_SECRET) and the User-Agent Reddit's
rules ask for (NT_REDDIT_USER_AGENT, "<platform>:<app id>:<version> (by /u/<username>)").

A source's URL names what to read: a subreddit's new posts (https://www.reddit.com/r/stocks), a search
in one (https://www.reddit.com/r/stocks/search?q=earnings) or across Reddit (https://www.reddit.com/search?q=$NVDA).
Each post becomes an entry: its title, self text as the summary, its permalink as the URL, and in `meta`
the link it points to, its score, comment count, author and subreddit. When Reddit's counters say the
allowance is spent (X-Ratelimit-Remaining), every Reddit source waits for X-Ratelimit-Reset."""

import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from django.conf import settings
from django.core.cache import cache

from apps.articles import feeds
from apps.articles.feeds import Entry, FeedError, ParsedFeed, platforms
from apps.articles.models import Platform

PLATFORM = Platform.REDDIT.value
SUBREDDIT = re.compile(r"^/r/([A-Za-z0-9_]{2,21})(/(?:new|hot|top|rising|search))?/?$")
PAGE = 100


def api_path(source_url: str) -> tuple[str, dict]:
    """The API path and parameters for a source URL; FeedError("config") for one that names nothing."""
    parts = urlsplit(source_url)
    if parts.hostname not in {"reddit.com", "www.reddit.com", "old.reddit.com"}:
        raise FeedError("config", f"not a Reddit address: {source_url} (use https://www.reddit.com/r/<subreddit>)")
    query = parse_qs(parts.query).get("q", [""])[0].strip()
    path = parts.path.rstrip("/") or "/"
    if path == "/search":
        if not query:
            raise FeedError("config", f"a Reddit search needs ?q=…: {source_url}")
        return "/search", {"q": query, "sort": "new", "limit": PAGE, "raw_json": 1, "type": "link"}
    match = SUBREDDIT.match(path)
    if not match:
        raise FeedError("config", f"not a subreddit or a search: {source_url}")
    name, tail = match.group(1), match.group(2) or ""
    if tail == "/search":
        if not query:
            raise FeedError("config", f"a Reddit search needs ?q=…: {source_url}")
        return f"/r/{name}/search", {"q": query, "restrict_sr": 1, "sort": "new", "limit": PAGE, "raw_json": 1}
    return f"/r/{name}/new", {"limit": PAGE, "raw_json": 1}


def _credentials() -> tuple[str, str, str]:
    client_id, secret, agent = settings.REDDIT_CLIENT_ID, settings.REDDIT_CLIENT_SECRET, settings.REDDIT_USER_AGENT
    if not (client_id and secret and agent):
        raise FeedError("config", "Reddit sources need NT_REDDIT_CLIENT_ID, NT_REDDIT_CLIENT_SECRET and "
                                  "NT_REDDIT_USER_AGENT (README: Reddit)")
    return client_id, secret, agent


def _token(client: httpx.Client | None) -> str:
    """An app-only bearer token, shared by every worker through the cache until a minute before it expires."""
    client_id, secret, agent = _credentials()
    key = f"nt:platform:reddit:token:{client_id}"
    token = cache.get(key)
    if token:
        return token
    client = client or feeds.http_client()
    try:
        platforms.check(settings.REDDIT_TOKEN_URL)
        response = client.post(settings.REDDIT_TOKEN_URL, data={"grant_type": "client_credentials"},
                               auth=(client_id, secret), headers={"User-Agent": agent, "Accept": "application/json"},
                               timeout=httpx.Timeout(settings.FEED_READ_TIMEOUT, connect=settings.FEED_CONNECT_TIMEOUT))
    except httpx.HTTPError as exc:
        raise FeedError("connect", f"Reddit token request: {type(exc).__name__}: {exc}") from None
    if response.status_code == 429:
        until = feeds.retry_after(response.headers)
        platforms.pause(PLATFORM, until)
        raise feeds.RateLimited("Reddit refused a token request: too many requests", until)
    if response.status_code in (401, 403):
        raise FeedError("auth", f"Reddit refused the app credentials (HTTP {response.status_code})")
    try:
        body = response.json()
        token, expires = body["access_token"], int(body.get("expires_in", 3600))
    except (ValueError, KeyError, TypeError):
        raise FeedError("auth", f"Reddit's token answer (HTTP {response.status_code}) has no access_token") from None
    cache.set(key, token, timeout=max(60, expires - 60))
    return token


def read(source, client: httpx.Client | None = None, now: datetime | None = None) -> ParsedFeed:
    """The source's posts newer than the last poll's newest (Reddit lists newest first)."""
    now = now or datetime.now(UTC)
    path, params = api_path(source.url)
    _, _, agent = _credentials()
    token = _token(client)
    url = f"{settings.REDDIT_API_URL.rstrip('/')}{path}?{urlencode(params)}"
    fetched = platforms.get(PLATFORM, url, client=client,
                            headers={"Authorization": f"bearer {token}", "User-Agent": agent, "Accept": "application/json"})
    _note_allowance(fetched.headers)
    try:
        listing = json.loads(fetched.content)
        children = listing["data"]["children"]
        assert isinstance(children, list)
    except (ValueError, KeyError, TypeError, AssertionError):
        raise FeedError("parse", f"not a Reddit listing: {fetched.content[:200]!r}") from None
    newest = float(source.cursor.get("newest_utc", 0) or 0)
    result = ParsedFeed(title=_title(path, params))
    top = newest
    for child in children:
        entry = _entry(child.get("data") if isinstance(child, dict) else None, now)
        if entry is None:
            result.skipped += 1
            continue
        created = entry.meta["created_utc"]
        top = max(top, created)
        if created <= newest:
            continue
        result.entries.append(entry)
    result.cursor = {"newest_utc": top} if top else {}
    return result


def _title(path: str, params: dict) -> str:
    return f"Reddit {path}" + (f" “{params['q']}”" if "q" in params else "")


def _entry(post: dict | None, now: datetime) -> Entry | None:
    if not isinstance(post, dict) or not post.get("title") or not post.get("permalink"):
        return None
    try:
        created = float(post.get("created_utc") or 0)
        published, problem = feeds._checked_date(datetime.fromtimestamp(created, UTC) if created else None, str(created), now)
    except (TypeError, ValueError, OverflowError):
        return None
    permalink = str(post["permalink"])
    if not permalink.startswith("/"):
        return None
    link = str(post.get("url") or "")
    return Entry(
        url=f"https://www.reddit.com{permalink}",
        title=feeds._text(str(post["title"]))[:1000],
        summary=feeds._text(str(post.get("selftext") or ""))[:20000],
        published_at=published,
        meta={"platform": PLATFORM, "id": str(post.get("name") or post.get("id") or "")[:40],
              "subreddit": str(post.get("subreddit") or "")[:40], "author": str(post.get("author") or "")[:40],
              "score": platforms.as_int(post.get("score")), "comments": platforms.as_int(post.get("num_comments")),
              "link": link[:2000] if link.startswith(("http://", "https://")) else "",
              "created_utc": created},
    )


def _note_allowance(headers: dict) -> None:
    """Reddit's counters: when none are left, every Reddit source waits for the reset (polite back-off)."""
    try:
        remaining = float(headers.get("x-ratelimit-remaining", "1"))
    except ValueError:
        return
    if remaining < 1:
        platforms.pause(PLATFORM, feeds.retry_after(headers))
