"""A fast path for the common feed: well-formed RSS 2.0 or Atom 1.0 made only of the usual elements,
read with the standard library's expat-based ElementTree in a fraction of feedparser's time.

Anything else returns None and feedparser reads the document instead: a DTD (so no entity tricks
reach this parser), XML that is not well-formed, an element or attribute this reader does not know
the meaning of (a namespace extension such as dc:date or content:encoded, an xhtml title, a link
without rel="alternate"), a date it cannot read. Summaries are HTML: script, style and applet
elements lose their content and comments are dropped, as feedparser's sanitiser does, before the
caller turns them into plain text. tests/articles/test_fastfeed.py pins both paths to the same result."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from xml.etree import ElementTree

ATOM = "{http://www.w3.org/2005/Atom}"
RSS_ITEM = {"title", "link", "description", "pubDate", "guid", "category", "author", "comments", "source", "enclosure"}
RSS_CHANNEL = {"title", "link", "description", "language", "copyright", "managingEditor", "webMaster", "pubDate",
               "lastBuildDate", "category", "generator", "docs", "ttl", "image", "item", "rating", "skipHours",
               "skipDays", "cloud", "textInput"}
ATOM_ENTRY = {ATOM + name for name in ("title", "link", "id", "updated", "published", "summary", "author", "category",
                                       "contributor", "rights")}
_ONCE = ("title", "link", "description", "pubDate")  # twice in one item: which one feedparser keeps is its call
_ONCE_ATOM = ("title", "summary", "published", "updated")
_STRAY_LT = re.compile(r"<(?![A-Za-z/!])")
_DROPPED = re.compile(r"<(script|style|applet)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)


@dataclass
class RawEntry:
    title: str  # HTML-ish text, as feedparser hands it over (the caller makes plain text of it)
    link: str
    summary: str
    date: datetime | None  # aware, UTC
    date_raw: str


@dataclass
class RawFeed:
    title: str
    link: str
    entries: list[RawEntry]


class _NotSimple(Exception):
    pass


def parse(content: bytes) -> RawFeed | None:
    """The feed, or None when feedparser must read it (see the module's docstring)."""
    head = content[:4096].lstrip()
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content or not head.startswith((b"<?xml", b"<rss", b"<feed")):
        return None
    try:
        root = ElementTree.fromstring(content)
        if root.tag == "rss" and root.get("version", "").startswith("2."):
            return _rss(root)
        if root.tag == ATOM + "feed":
            return _atom(root)
    except (ElementTree.ParseError, _NotSimple, ValueError, TypeError, OverflowError, IndexError):
        pass
    return None


def _text(element) -> str:
    if element is None:
        return ""
    if len(element):  # markup inside an element (not escaped as text): feedparser's to interpret
        raise _NotSimple
    return (element.text or "").strip()


def _rss(root) -> RawFeed:
    channels = root.findall("channel")
    if len(channels) != 1 or set(root.attrib) - {"version"}:
        raise _NotSimple
    channel = channels[0]
    tags = [child.tag for child in channel]
    if any(tag not in RSS_CHANNEL for tag in tags) or tags.count("title") > 1 or tags.count("link") > 1:
        raise _NotSimple
    entries = []
    for item in channel.iterfind("item"):
        tags = [child.tag for child in item]
        if any(tag not in RSS_ITEM for tag in tags) or any(tags.count(one) > 1 for one in _ONCE):
            raise _NotSimple
        if not _text(item.find("link")) and "guid" in tags:
            raise _NotSimple  # feedparser takes a permalink guid for the missing link
        raw_date = _text(item.find("pubDate"))
        entries.append(RawEntry(
            title=_html(_text(item.find("title"))), link=_text(item.find("link")),
            summary=_html(_text(item.find("description"))), date=_rfc822(raw_date), date_raw=raw_date))
    return RawFeed(title=_html(_text(channel.find("title"))), link=_text(channel.find("link")), entries=entries)


def _atom(root) -> RawFeed:
    entries = []
    for entry in root.iterfind(ATOM + "entry"):
        tags = [child.tag for child in entry]
        if any(tag not in ATOM_ENTRY for tag in tags) or any(tags.count(ATOM + one) > 1 for one in _ONCE_ATOM):
            raise _NotSimple
        published, updated = entry.find(ATOM + "published"), entry.find(ATOM + "updated")
        raw_date = _text(published if published is not None else updated)
        entries.append(RawEntry(
            title=_atom_text(entry.find(ATOM + "title")), link=_alternate(entry),
            summary=_atom_text(entry.find(ATOM + "summary")), date=_iso(raw_date), date_raw=raw_date))
    return RawFeed(title=_atom_text(root.find(ATOM + "title")), link=_alternate(root, required=False), entries=entries)


def _atom_text(element) -> str:
    if element is None:
        return ""
    kind = element.get("type", "text")
    if kind == "text":
        return _html(_text(element))
    if kind == "html":
        return _html(_text(element))
    raise _NotSimple  # xhtml, or a media type


def _alternate(element, required: bool = True) -> str:
    for link in element.iterfind(ATOM + "link"):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return link.get("href").strip()
    if required:
        raise _NotSimple
    return ""


def _html(value: str) -> str:
    if "<" not in value:
        return value
    if _STRAY_LT.search(value):  # "a < b": feedparser escapes it, a tag pattern would eat it: feedparser's
        raise _NotSimple
    return _DROPPED.sub(" ", value)


def _rfc822(raw: str) -> datetime | None:
    if not raw:
        return None
    moment = parsedate_to_datetime(raw)  # ValueError/TypeError: feedparser's more lenient readers decide
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(raw: str) -> datetime | None:
    if not raw:
        return None
    moment = datetime.fromisoformat(raw)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
