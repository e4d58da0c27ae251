"""X sources (kind "x"), read through the X API v2 with an app's bearer token (NT_X_BEARER_TOKEN).

A source's URL names what to read: a recent search (https://x.com/search?q=%24NVDA%20lang%3Aen) or a
list's posts (https://x.com/i/lists/<id>). A poll walks the answer's pages (meta.next_token), at most
NT_X_MAX_PAGES of them; a walk cut short (the page cap, or the rate limit) keeps its next_token on the
source and the next poll goes on from there. A finished search walk stores the newest post id as
since_id, so the next one asks only for newer posts. X's rate-limit headers are honoured: a 429, or a
window with no requests left (x-rate-limit-remaining: 0), pauses every X source until x-rate-limit-reset."""

import json
import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from django.conf import settings

from apps.articles import feeds
from apps.articles.feeds import Entry, FeedError, ParsedFeed, RateLimited, platforms
from apps.articles.models import Platform

PLATFORM = Platform.X.value
LIST = re.compile(r"^/i/lists/(\d{1,25})/?$")
FIELDS = {"tweet.fields": "created_at,public_metrics,author_id,lang", "expansions": "author_id",
          "user.fields": "username"}


def api_path(source_url: str) -> tuple[str, dict, str]:
    """(API path, parameters, page-token parameter name) for a source URL; FeedError("config") otherwise."""
    parts = urlsplit(source_url)
    if parts.hostname not in {"x.com", "www.x.com", "twitter.com", "www.twitter.com"}:
        raise FeedError("config", f"not an X address: {source_url} (use https://x.com/search?q=… or /i/lists/<id>)")
    match = LIST.match(parts.path)
    if match:
        return f"/2/lists/{match.group(1)}/tweets", {"max_results": 100, **FIELDS}, "pagination_token"
    if parts.path.rstrip("/") == "/search":
        query = parse_qs(parts.query).get("q", [""])[0].strip()
        if not query:
            raise FeedError("config", f"an X search needs ?q=…: {source_url}")
        if len(query) > 512:
            raise FeedError("config", f"an X recent-search query is at most 512 characters ({len(query)} here)")
        return "/2/tweets/search/recent", {"query": query, "max_results": 100, **FIELDS}, "next_token"
    raise FeedError("config", f"not an X search or list: {source_url}")


def read(source, client: httpx.Client | None = None, now: datetime | None = None) -> ParsedFeed:
    now = now or datetime.now(UTC)
    if not settings.X_BEARER_TOKEN:
        raise FeedError("config", "X sources need NT_X_BEARER_TOKEN (README: X)")
    path, params, token_name = api_path(source.url)
    cursor = dict(source.cursor or {})
    searching = token_name == "next_token"
    if searching and cursor.get("since_id"):
        params["since_id"] = cursor["since_id"]
    result = ParsedFeed(title=f"X {path}" + (f" “{params['query']}”" if searching else ""))
    headers = {"Authorization": f"Bearer {settings.X_BEARER_TOKEN}", "Accept": "application/json"}
    page_token = cursor.get("next_token", "")
    newest = cursor.get("walk_newest", "")
    for _ in range(settings.X_MAX_PAGES):
        query = {**params, **({token_name: page_token} if page_token else {})}
        url = f"{settings.X_API_URL.rstrip('/')}{path}?{urlencode(query)}"
        try:
            fetched = platforms.get(PLATFORM, url, headers=headers, client=client)
        except RateLimited as exc:
            if not result.entries:
                raise
            # Keep what this poll read; the walk goes on from page_token once X allows.
            result.warning = f"stopped early: {exc.message}"
            break
        body = _json(fetched.content)
        meta = body.get("meta") if isinstance(body.get("meta"), dict) else {}
        if not newest and meta.get("newest_id"):
            newest = str(meta["newest_id"])
        users = {u.get("id"): u.get("username") for u in (body.get("includes") or {}).get("users", [])
                 if isinstance(u, dict)}
        for post in body.get("data") or []:
            entry = _entry(post, users, now)
            if entry is None:
                result.skipped += 1
            else:
                result.entries.append(entry)
        page_token = str(meta.get("next_token") or "")
        _note_allowance(fetched.headers)
        if not page_token or platforms.paused_until(PLATFORM):
            break
    if page_token:  # an unfinished walk: the next poll goes on from here
        result.cursor = {**cursor, "next_token": page_token, "walk_newest": newest}
    else:
        result.cursor = {key: value for key, value in cursor.items() if key not in ("next_token", "walk_newest")}
        if searching and newest:
            result.cursor["since_id"] = newest
    return result


def _json(content: bytes) -> dict:
    try:
        body = json.loads(content)
    except ValueError:
        raise FeedError("parse", f"not a JSON answer from X: {content[:200]!r}") from None
    if not isinstance(body, dict):
        raise FeedError("parse", "X's answer is not an object")
    if "data" not in body and body.get("errors"):
        first = body["errors"][0] if isinstance(body["errors"], list) and body["errors"] else {}
        detail = first.get("detail") or first.get("message") or "error" if isinstance(first, dict) else "error"
        raise FeedError("api", f"X says: {str(detail)[:500]}")
    return body


def _entry(post, users: dict, now: datetime) -> Entry | None:
    if not isinstance(post, dict) or not str(post.get("id", "")).isdigit() or not post.get("text"):
        return None
    text = feeds._text(str(post["text"]))
    if not text:
        return None
    created = None
    try:
        created = datetime.fromisoformat(str(post.get("created_at", "")).replace("Z", "+00:00"))
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
    except ValueError:
        created = None
    published, _ = feeds._checked_date(created, str(post.get("created_at", "")), now)
    username = users.get(post.get("author_id")) or ""
    metrics = post.get("public_metrics") if isinstance(post.get("public_metrics"), dict) else {}
    handle = username if re.fullmatch(r"\w{1,30}", username or "") else "i/web"
    return Entry(
        url=f"https://x.com/{handle}/status/{post['id']}",
        title=text[:280], summary=text[:20000], published_at=published,
        meta={"platform": PLATFORM, "id": str(post["id"]), "author": username[:40], "lang": str(post.get("lang", ""))[:8],
              **{name: platforms.as_int(metrics.get(f"{name}_count")) for name in ("like", "retweet", "reply", "quote")}},
    )


def _note_allowance(headers: dict) -> None:
    if headers.get("x-rate-limit-remaining", "").strip() == "0":
        platforms.pause(PLATFORM, feeds.retry_after(headers))
