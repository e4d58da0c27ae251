"""Fetching and parsing feeds: httpx with timeouts, a size cap, manual redirects (each hop checked by
the SSRF guard), conditional GET; feedparser on the fetched bytes (its HTML sanitiser stays on)."""

import email.utils
import html
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

import feedparser
import httpx
from django.conf import settings

from apps.articles import fastfeed
from newstunneler.netguard import BlockedURL, check_url, shared_client

REDIRECT_CODES = {301, 302, 303, 307, 308}
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
# A published date this far ahead of fetch time is a feed's clock error: clamp it to now.
FUTURE_TOLERANCE = timedelta(minutes=5)
# A published date before this is not a real one (0001-01-01, 1970-01-01 placeholders): the entry is dated
# at fetch time, with a warning, instead of being stored as ancient news for retention to delete.
DATE_FLOOR = datetime(1995, 1, 1, tzinfo=UTC)
DATE_FIELDS = (("published_parsed", "published"), ("updated_parsed", "updated"), ("created_parsed", "created"))


class FeedError(Exception):
    """A failure that belongs to the source (recorded on it), not to the job polling it."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind
        self.message = message

    def __str__(self):
        return f"{self.kind}: {self.message}"


class RateLimited(FeedError):
    """The platform asked us to wait: the source is polled again at `retry_at`, not counted as failing."""

    def __init__(self, message: str, retry_at: datetime):
        super().__init__("rate_limited", message)
        self.retry_at = retry_at


@dataclass
class Fetched:
    url: str  # after redirects
    status: int
    content: bytes = b""
    etag: str = ""
    last_modified: str = ""
    content_type: str = ""
    headers: dict = field(default_factory=dict)  # the answer's headers (lower-case names): rate-limit counters
    parsed: "ParsedFeed | Exception | None" = None  # its parse, when the fetching thread did it (polling)

    @property
    def not_modified(self) -> bool:
        return self.status == 304


@dataclass
class Entry:
    url: str
    title: str
    summary: str
    published_at: datetime
    meta: dict = field(default_factory=dict)  # a post's platform data (score, comments, author, link …)


@dataclass
class ParsedFeed:
    title: str = ""
    site_url: str = ""
    entries: list[Entry] = field(default_factory=list)
    warning: str = ""
    skipped: int = 0  # entries with no (usable) link or no title
    redated: int = 0  # entries whose date was unusable: dated at fetch time
    cursor: dict | None = None  # a platform source's new reading position (stored on the source), if any


def http_client() -> httpx.Client:
    return shared_client(
        "feeds",
        headers={"User-Agent": settings.HTTP_USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"},
        limits=httpx.Limits(max_connections=50, max_keepalive_connections=10),
    )


def fetch(url: str, etag: str = "", last_modified: str = "", client: httpx.Client | None = None,
          headers: dict | None = None) -> Fetched:
    """GET a feed (or a platform API's answer: `headers` adds its own). Raises FeedError for anything that
    is the source's fault or the network's, RateLimited for a 429."""
    client = client or http_client()
    timeout = httpx.Timeout(settings.FEED_READ_TIMEOUT, connect=settings.FEED_CONNECT_TIMEOUT)
    deadline = time.monotonic() + settings.FEED_TOTAL_TIMEOUT
    headers = dict(headers or {})
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        for _ in range(settings.FEED_MAX_REDIRECTS + 1):
            try:
                check_url(url)
            except BlockedURL as exc:
                raise FeedError(exc.kind, str(exc)) from None
            with client.stream("GET", url, headers=headers, timeout=timeout) as response:
                if response.status_code in REDIRECT_CODES and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                return _read(response, url, deadline)
        raise FeedError("redirects", f"more than {settings.FEED_MAX_REDIRECTS} redirects (last: {url})")
    except BlockedURL as exc:  # refused when connecting (the host's address changed since the check)
        raise FeedError(exc.kind, str(exc)) from None
    except httpx.TimeoutException as exc:
        raise FeedError("timeout", f"{type(exc).__name__} fetching {url}") from None
    except httpx.TransportError as exc:
        raise FeedError("connect", f"{type(exc).__name__}: {exc}") from None


def _read(response: httpx.Response, url: str, deadline: float) -> Fetched:
    if response.status_code == 304:
        return Fetched(url=url, status=304)
    if response.status_code == 429:
        raise RateLimited(f"HTTP 429 (too many requests) from {url}", retry_after(response.headers))
    if response.status_code >= 400:
        raise FeedError("http_status", f"HTTP {response.status_code} from {url}")
    if response.status_code != 200:
        raise FeedError("http_status", f"unexpected HTTP {response.status_code} from {url}")
    limit = settings.FEED_MAX_BYTES
    declared = response.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise FeedError("too_large", f"{url} declares {int(declared)} bytes, over the {limit}-byte cap")
    chunks, size = [], 0
    for chunk in response.iter_bytes():  # decoded bytes: a gzip bomb hits the cap too
        size += len(chunk)
        if size > limit:
            raise FeedError("too_large", f"{url} sent more than the {limit}-byte cap")
        if time.monotonic() > deadline:
            raise FeedError("timeout", f"{url} took longer than {settings.FEED_TOTAL_TIMEOUT}s in all")
        chunks.append(chunk)
    return Fetched(
        url=url,
        status=200,
        content=b"".join(chunks),
        etag=response.headers.get("etag", "")[:500],
        last_modified=response.headers.get("last-modified", "")[:100],
        content_type=response.headers.get("content-type", ""),
        headers={name.lower(): value for name, value in response.headers.items()},
    )


MAX_WAIT = timedelta(hours=24)


def retry_after(headers, default: float = 60.0) -> datetime:
    """When a platform lets us ask again: Retry-After (seconds or an HTTP date), X's x-rate-limit-reset
    (epoch seconds), Reddit's x-ratelimit-reset (seconds from now); else `default` seconds; at most 24 h."""
    now = datetime.now(UTC)
    wait = None
    value = headers.get("retry-after", "")
    if value:
        try:
            wait = timedelta(seconds=float(value))
        except ValueError:
            try:
                wait = email.utils.parsedate_to_datetime(value) - now
            except (TypeError, ValueError):
                wait = None
    if wait is None and headers.get("x-rate-limit-reset", "").isdigit() and len(headers["x-rate-limit-reset"]) <= 11:
        wait = datetime.fromtimestamp(int(headers["x-rate-limit-reset"]), UTC) - now
    if wait is None and headers.get("x-ratelimit-reset"):
        try:
            wait = timedelta(seconds=float(headers["x-ratelimit-reset"]))
        except ValueError:
            wait = None
    if wait is None:
        wait = timedelta(seconds=default)
    return now + min(max(wait, timedelta(seconds=1)), MAX_WAIT)


def _entry_date(entry, now: datetime) -> tuple[datetime, str]:
    """The entry's date (published, else updated, else created), and what was wrong with it if it was
    unusable. feedparser normalises every date to a UTC struct_time (naive input is taken as UTC), but
    the tuple can hold anything: year -1, year 10000, a 61st second. An unusable or pre-DATE_FLOOR date
    dates the entry at fetch time; a date in the future is clamped to fetch time."""
    found = next(((entry.get(parsed), raw) for parsed, raw in DATE_FIELDS if entry.get(parsed)), None)
    if found is None:
        return now, ""
    parsed, raw = found[0], str(entry.get(found[1], ""))[:80]
    try:
        year, month, day, hour, minute, second = (int(part) for part in tuple(parsed)[:6])
        moment = datetime(year, month, day, hour, minute, min(second, 59), tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return now, f"unusable date {raw!r}"
    return _checked_date(moment, raw, now)


def _checked_date(moment: datetime | None, raw: str, now: datetime) -> tuple[datetime, str]:
    """A date before DATE_FLOOR dates the entry at fetch time (and says so); one in the future is clamped."""
    if moment is None:
        return now, ""
    raw = raw[:80]
    if moment < DATE_FLOOR:
        return now, f"date before {DATE_FLOOR:%Y} {raw!r}"
    return (now if moment > now + FUTURE_TOLERANCE else moment), ""


_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_UTF8 = {"utf-8", "utf8", "us-ascii", "ascii"}
_TAG = re.compile(r"<[^>]*>")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# C0 controls other than tab, newline and carriage return: PostgreSQL refuses NUL in text, and none of
# them belong in a title or summary.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CHARREF = re.compile(rb"&#(x[0-9a-fA-F]{1,8}|[0-9]{1,10});")
MAX_URL = 2000  # the length Article.url holds


def _text(value: str) -> str:
    """Plain text from feed HTML already sanitised (by feedparser, or by fastfeed, which drops scripts,
    styles and comments), so a simple tag pattern suffices:
    tags out, entities decoded, spaces folded. It is stored as text and escaped wherever shown."""
    if "<" in value:
        value = _TAG.sub(" ", _COMMENT.sub(" ", value))  # a comment may hold a ">": out first
    if "&" in value:
        value = html.unescape(value)
    return " ".join(_CONTROLS.sub(" ", value).split())


def _safe_charref(match: re.Match) -> bytes:
    text = match.group(1)
    code = int(text[1:], 16) if text[:1] in (b"x", b"X") else int(text)
    if code == 0 or 0xD800 <= code <= 0xDFFF or code > 0x10FFFF:
        return b"&#xFFFD;"  # feedparser would crash encoding it (or store a NUL): the replacement character
    return match.group(0)


def parse(content: bytes, url: str = "", content_type: str = "", now: datetime | None = None) -> ParsedFeed:
    """Parse feed bytes. Raises FeedError('parse') for a broken feed with no entries."""
    now = now or datetime.now(UTC)
    # No content-location: feedparser would urljoin every link against it; relative entry links
    # (rare) are joined below instead.
    headers = {"content-type": content_type} if content_type else {}
    if b"&#" in content:
        content = _CHARREF.sub(_safe_charref, content)
    # The fast path reads the document's own encoding (UTF-8 unless it declares another); a charset the
    # server names otherwise is feedparser's to honour.
    charset = _CHARSET.search(content_type)
    fast = fastfeed.parse(content) if not charset or charset.group(1).lower() in _UTF8 else None
    if fast is not None:  # the common, well-formed feed: read without feedparser (apps/articles/fastfeed.py)
        result = ParsedFeed(title=_text(fast.title)[:300], site_url=_CONTROLS.sub("", fast.link)[:MAX_URL])
        raw_entries = [(e.link, e.title, e.summary, _checked_date(e.date, e.date_raw, now)) for e in fast.entries]
    else:
        # Sanitising stays on (never skip it); resolving links inside summaries is useless: we keep only text.
        try:
            feed = feedparser.parse(content, response_headers=headers, sanitize_html=True, resolve_relative_uris=False)
        except Exception as exc:  # noqa: BLE001 - a parser crash is the feed's problem, recorded on its source
            raise FeedError("parse", f"the feed parser failed: {type(exc).__name__}: {exc}"[:2000]) from None
        warning = f"{type(feed.bozo_exception).__name__}: {feed.bozo_exception}" if feed.bozo else ""
        if feed.bozo and not feed.entries:
            raise FeedError("parse", f"not a feed: {warning}")
        result = ParsedFeed(
            title=_text(feed.feed.get("title") or "")[:300],
            site_url=_CONTROLS.sub("", feed.feed.get("link") or "")[:MAX_URL],
            warning=warning[:2000],
        )
        raw_entries = [(entry.get("link") or "", entry.get("title") or "", entry.get("summary") or "",
                        _entry_date(entry, now)) for entry in feed.entries]
    bad_dates = []
    for link, title, summary, (published_at, date_problem) in raw_entries:
        link = _CONTROLS.sub("", link).strip()
        if link and url and not link.startswith(("http://", "https://")):
            link = urljoin(url, link)
        title = _text(title)
        if not link or not title or not link.startswith(("http://", "https://")) or len(link) > MAX_URL:
            result.skipped += 1
            continue
        summary = _text(summary)
        if date_problem:
            bad_dates.append(date_problem)
        result.entries.append(Entry(url=link, title=title[:1000], summary=summary[:20000], published_at=published_at))
    if bad_dates:
        result.redated = len(bad_dates)
        note = f"{len(bad_dates)} entr{'y' if len(bad_dates) == 1 else 'ies'} dated at fetch time (first: {bad_dates[0]})"
        result.warning = "; ".join(filter(None, [note, result.warning]))[:2000]
    return result
