"""Feed documents for tests: RSS 2.0 and Atom built from plain item dicts."""

from email.utils import format_datetime
from html import escape


def rss(items, title="Test Wire", link="https://wire.example.com/"):
    body = []
    for item in items:
        date = f"<pubDate>{item['date']}</pubDate>" if isinstance(item.get("date"), str) else (
            f"<pubDate>{format_datetime(item['date'])}</pubDate>" if item.get("date") else "")
        body.append(
            f"<item><title>{escape(item['title'])}</title><link>{escape(item['link'])}</link>"
            f"<description>{escape(item.get('summary', ''))}</description>{date}</item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{escape(link)}</link><description>d</description>"
        + "".join(body) + "</channel></rss>"
    ).encode()


def atom(items, title="Atom Wire"):
    body = "".join(
        f'<entry><title>{escape(i["title"])}</title><link href="{escape(i["link"])}"/>'
        f'<id>{escape(i["link"])}</id><updated>{i["date"]}</updated>'
        f'<summary>{escape(i.get("summary", ""))}</summary></entry>'
        for i in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f'<title>{escape(title)}</title><id>urn:test</id><updated>2026-11-20T10:00:00Z</updated>'
        f'<link href="https://atom.example.com/"/>{body}</feed>'
    ).encode()


def items(n, prefix="Story", domain="news.example.com", summary=""):
    return [{"title": f"{prefix} {i} about widgets number {i}", "link": f"https://{domain}/{prefix.lower()}/{i}",
             "summary": summary} for i in range(n)]
