"""The fast path reads the common feed exactly as the feedparser path does, and hands everything else
to feedparser."""

from datetime import UTC, datetime

import pytest

from apps.articles import fastfeed, feeds
from tests.articles.feedfactory import atom, items, rss

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _both(document: bytes) -> tuple[feeds.ParsedFeed, feeds.ParsedFeed]:
    fast = feeds.parse(document, url="https://feed.example.com/rss", now=NOW)
    real = fastfeed.parse
    try:
        fastfeed.parse = lambda content: None  # the same document through feedparser
        slow = feeds.parse(document, url="https://feed.example.com/rss", now=NOW)
    finally:
        fastfeed.parse = real
    return fast, slow


TRICKY = [
    {"title": "AT&T beats <b>estimates</b> & raises guidance", "link": "https://a.example.com/1?x=1&y=2",
     "summary": '<p>Revenue <b>rose</b> 12%.<script>track("x > y")</script><style>p{}</style><!-- a > b --></p>',
     "date": datetime(2026, 11, 20, 12, 0, tzinfo=UTC)},
    {"title": "Caf\u00e9 chain \u2014 \u201cquotes\u201d &amp; entities &#8220;here&#8221;", "link": "https://a.example.com/2",
     "summary": "&lt;p&gt;double &amp;amp; escaped&lt;/p&gt; &nbsp; spaces", "date": "Fri, 20 Nov 2026 08:00:00 -0500"},
    {"title": "No date at all", "link": "https://a.example.com/3", "summary": "plain text summary"},
    {"title": "Old placeholder date", "link": "https://a.example.com/4", "date": "Thu, 01 Jan 1970 00:00:00 GMT"},
    {"title": "From the future", "link": "https://a.example.com/5", "date": "Fri, 01 Jan 2100 00:00:00 GMT"},
    {"title": "Relative link", "link": "/story/6", "date": "Fri, 20 Nov 2026 08:00:00 GMT"},
    {"title": "", "link": "https://a.example.com/7"},
    {"title": "No link", "link": ""},
    {"title": "ftp link", "link": "ftp://a.example.com/9"},
]


@pytest.mark.parametrize("document", [
    rss(TRICKY), rss(items(30, summary="<p>Shares <i>rose</i> 3% &amp; more</p>")),
    atom([{"title": "Atom story", "link": "https://b.example.com/1", "date": "2026-11-20T10:00:00Z",
           "summary": "Plain atom summary"},
          {"title": "Second", "link": "https://b.example.com/2", "date": "2026-11-20T10:00:00+02:00"}]),
], ids=["rss-tricky", "rss-plain", "atom"])
def test_the_fast_path_reads_a_feed_as_feedparser_does(document):
    assert fastfeed.parse(document.replace(b"&#", b"&#")) is not None  # (the fast path takes these)
    fast, slow = _both(document)
    assert fast.entries == slow.entries
    assert (fast.title, fast.site_url, fast.skipped, fast.redated) == (slow.title, slow.site_url, slow.skipped, slow.redated)
    assert fast.entries  # (not vacuous)


def test_the_bench_feed_reads_the_same_both_ways():
    from bench.ingest import build_feed

    fast, slow = _both(build_feed(3, 50))
    assert len(fast.entries) == 50 and fast.entries == slow.entries
    assert "track()" not in fast.entries[0].summary  # a script's content never becomes text


@pytest.mark.parametrize("document", [
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x "boom">]><rss version="2.0"><channel><title>&x;</title>'
    b"<item><title>t</title><link>https://c.example.com/1</link></item></channel></rss>",  # a DTD
    rss(items(2)).replace(b"</channel>", b"<item><title>broken</title></channel>"),  # not well-formed
    rss(items(2)).replace(b"<item>", b'<item><dc:date xmlns:dc="http://purl.org/dc/elements/1.1/">2026-11-20</dc:date>', 1),
    rss([{"title": "a < b and c > d", "link": "https://c.example.com/2"}]),  # a stray "<": feedparser escapes it
    rss([{"title": "Bad date", "link": "https://c.example.com/3", "date": "sometime soon"}]),
    b'<?xml version="1.0"?><rss version="0.91"><channel><title>old</title></channel></rss>',
    atom([{"title": "x", "link": "https://c.example.com/4", "date": "2026-11-20T10:00:00Z"}]).replace(
        b'<title>x</title>', b'<title type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">x</div></title>'),
    rss(items(1)).replace(b"<link>https://news.example.com/story/0</link>",
                          b"<guid>https://news.example.com/story/0</guid>"),  # a permalink guid, no link
    rss(items(1)).replace(b"<title>", b"<title>first</title><title>", 1),  # two channel titles
    rss(items(1)).replace(b"<item><title>", b"<item><title>first</title><title>"),  # two item titles
], ids=["dtd", "malformed", "namespace-extension", "stray-lt", "bad-date", "rss-0.91", "atom-xhtml", "guid-only",
        "two-channel-titles", "two-item-titles"])
def test_anything_unusual_goes_to_feedparser(document):
    assert fastfeed.parse(document) is None
    fast, slow = _both(document)  # and the result is feedparser's, whatever it is
    assert fast.entries == slow.entries


def test_a_charset_the_server_names_is_feedparsers_to_honour(monkeypatch):
    document = rss([{"title": "Caf\u00e9 story", "link": "https://d.example.com/1"}])
    used = []
    monkeypatch.setattr(fastfeed, "parse", lambda content, real=fastfeed.parse: used.append(1) or real(content))
    feeds.parse(document, content_type="application/rss+xml; charset=UTF-8", now=NOW)
    feeds.parse(document, content_type="application/rss+xml", now=NOW)
    assert len(used) == 2
    latin = feeds.parse(document, content_type="text/xml; charset=windows-1252", now=NOW)
    assert len(used) == 2 and latin.entries  # feedparser read it, with the server's charset
