"""What the platform readers (Reddit, X, SEC EDGAR) share: a pause per platform that every worker sees
(through the cache: once a platform says to wait, none of its sources is fetched before then), a
request-rate cap per platform across every worker (SEC's fair-access rule: at most 10 requests/s), and
the GET that honours both."""

import time
from datetime import UTC, datetime

import httpx
from django.core.cache import cache
from django_redis import get_redis_connection

from apps.articles import feeds
from apps.articles.feeds import FeedError, Fetched, RateLimited
from newstunneler.netguard import BlockedURL, check_url


def _pause_key(platform: str) -> str:
    return f"nt:platform:{platform}:paused_until"


def paused_until(platform: str) -> datetime | None:
    until = cache.get(_pause_key(platform))
    if until is None or until <= time.time():
        return None
    return datetime.fromtimestamp(until, UTC)


def pause(platform: str, until: datetime) -> None:
    """No source of `platform` is fetched before `until` (a longer pause already set stands)."""
    current = cache.get(_pause_key(platform)) or 0
    seconds = until.timestamp() - time.time()
    if seconds > 0 and until.timestamp() > current:
        cache.set(_pause_key(platform), until.timestamp(), timeout=int(seconds) + 1)


# Hands out send times at least 1/rate apart, across every process: the caller sleeps until its own.
_NEXT_SLOT = """
local now = tonumber(ARGV[1])
local gap = tonumber(ARGV[2])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(now, free)
redis.call('SET', KEYS[1], at + gap, 'PX', 60000)
return at
"""
_scripts: dict = {}


def throttle(platform: str, per_second: int) -> None:
    """Wait for this request's turn: requests to `platform` leave at least 1/per_second apart, counted
    across every worker through Redis (a sliding rate, not a per-second window that allows a burst of
    twice the rate across a second's boundary)."""
    client = get_redis_connection("default")
    script = _scripts.get(id(client))
    if script is None:
        script = _scripts[id(client)] = client.register_script(_NEXT_SLOT)
    now_ms = int(time.time() * 1000)
    at_ms = int(script(keys=[cache.make_key(f"nt:platform:{platform}:next_slot")], args=[now_ms, -(-1000 // per_second)]))
    if at_ms > now_ms:
        time.sleep((at_ms - now_ms) / 1000)


def as_int(value) -> int:
    """A platform's count (score, comments, likes …) as an int; 0 for anything that is not one."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return 0


def check(url: str) -> None:
    """The SSRF check of a URL we are about to call, as a FeedError."""
    try:
        check_url(url)
    except BlockedURL as exc:
        raise FeedError(exc.kind, str(exc)) from None


def get(platform: str, url: str, *, headers: dict, client: httpx.Client | None = None,
        per_second: int | None = None) -> Fetched:
    """GET one API answer for `platform`: refused at once while the platform is paused, throttled to
    `per_second` when given; a 429 pauses the platform until its reset time and raises RateLimited."""
    until = paused_until(platform)
    if until is not None:
        raise RateLimited(f"{platform} asked us to wait until {until:%Y-%m-%d %H:%M:%S} UTC", until)
    if per_second:
        throttle(platform, per_second)
    try:
        return feeds.fetch(url, client=client, headers=headers)
    except RateLimited as exc:
        pause(platform, exc.retry_at)
        raise


def source_problem(kind: str, url: str) -> str:
    """What is wrong with `url` as a source of `kind` (empty: nothing): a Reddit source must name a
    subreddit or a search, an X source a search or a list."""
    from apps.articles.feeds import reddit, x

    readers = {"reddit": reddit.api_path, "x": x.api_path}
    if kind not in readers or not url:
        return ""
    try:
        readers[kind](url)
    except FeedError as exc:
        return exc.message
    return ""
