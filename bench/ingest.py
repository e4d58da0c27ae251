"""Ingest benchmark: end-to-end items/s (fetch over loopback HTTP, parse, dedupe, score, store; no LLM)
next to feedparser's raw parse rate of the same bytes, measured in the same run. The end-to-end side
is what a poll_sources job does (apps/articles/polling.py: the feeds fetched concurrently, each stored
as its answer arrives), in this one process.

    .venv/bin/python bench/ingest.py [--feeds 20] [--items 50] [--rounds 5]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/ingest.py

Runs against a throwaway database (a temporary SQLite file, or test_<name> on PostgreSQL) that it
creates and destroys; Dramatiq's StubBroker stands in for the broker, so nothing is sent anywhere.
"""

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
os.environ.setdefault("NT_ALLOW_PRIVATE_FEEDS", "1")

from bench.jobs import scratch_dir  # noqa: E402

COMPANIES = ["Apple (NASDAQ: AAPL)", "Microsoft", "$NVDA", "Tesla", "Pfizer (NYSE: PFE)", "Alphabet", "Ford Motor",
             "JPMorgan", "Agilent Technologies", "$AMZN"]
EVENTS = ["beats estimates and raises guidance", "misses revenue forecast, shares fall", "wins $2 billion defense contract",
          "receives FDA approval for new therapy", "to acquire rival in all-stock merger", "cuts guidance on weak demand",
          "faces lawsuit over product recall", "announces $10 billion buyback", "upgraded to buy at major bank",
          "reports record quarterly profit"]


def build_feed(feed: int, items: int, round_: int = 0, now: datetime | None = None) -> bytes:
    """Feed `feed` of round `round_`: its stories are new (links and titles of their own), as a poll's are,
    and dated in the hours before `now` (default: the current time), so that the title dedupe and the
    novelty index see them in their 48 h / 72 h windows, as they see a live feed's."""
    now = now or datetime.now(UTC)
    entries = []
    for i in range(items):
        company, event = COMPANIES[(feed + i) % len(COMPANIES)], EVENTS[(feed * 7 + i) % len(EVENTS)]
        title = f"{company} {event} (report r{round_}f{feed}n{i})"
        summary = (f"&lt;p&gt;{company} said on Tuesday it {event}. &lt;b&gt;Revenue&lt;/b&gt; rose {i % 30}% to "
                   f"${i + 1}.{feed} billion &lt;a href=&quot;https://ex.example.com/{i}&quot;&gt;more&lt;/a&gt;"
                   f"&lt;script&gt;track()&lt;/script&gt;&lt;/p&gt;")
        entries.append(
            f"<item><title>{title.replace('&', '&amp;')}</title>"
            f"<link>https://news{feed}.example.com/{round_}/story/{i}?utm_source=rss</link>"
            f"<guid>https://news{feed}.example.com/{round_}/story/{i}</guid><description>{summary}</description>"
            f"<pubDate>{format_datetime(now - timedelta(minutes=(feed * items + i) % 600))}</pubDate></item>"
        )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench feed {feed}</title>'
            f"<link>https://news{feed}.example.com/</link><description>bench</description>{''.join(entries)}"
            "</channel></rss>").encode()


def serve_elsewhere(feeds: dict[str, bytes]):
    """The feed server in a process of its own (as feeds are on other machines): it must not take the
    measured process's CPU or GIL. Returns (process, port)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    ports = context.Queue()
    process = context.Process(target=_serve_forever, args=(feeds, ports), daemon=True)
    process.start()
    return process, ports.get(timeout=30)


def _serve_forever(feeds, ports):
    server = serve(feeds)
    ports.put(server.server_address[1])
    threading.Event().wait()


def serve(feeds: dict[str, bytes]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = feeds.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5,
                        help="repeat each measurement (after a warm-up round); the median is reported")
    parser.add_argument("--profile", type=int, nargs="?", const=25, metavar="N",
                        help="profile the end-to-end side (its storing thread) and print the N costliest calls")
    args = parser.parse_args()

    tmp = scratch_dir("nt-bench-")
    os.environ.setdefault("NT_VAR_DIR", tmp)
    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    import dramatiq
    import feedparser
    from django.conf import settings
    from django.db import connection
    from django.test.utils import setup_test_environment

    from apps.articles import polling
    from apps.articles.models import ArticleScore, Source

    settings.DATABASES["default"].setdefault("TEST", {})
    if connection.vendor == "sqlite":
        settings.DATABASES["default"]["TEST"]["NAME"] = str(Path(tmp) / "bench.sqlite3")
    setup_test_environment()
    db_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        # Each round polls new sources whose stories are all new: the tables grow as they would (no
        # deletes between rounds, whose dead rows would bring autovacuum into the measurement).
        rounds = [{f"/{round_}/feed/{n}": build_feed(n, args.items, round_) for n in range(args.feeds)}
                  for round_ in range(args.rounds + 1)]
        total_items = args.feeds * args.items
        server, port = serve_elsewhere({path: body for documents in rounds for path, body in documents.items()})
        base = f"http://127.0.0.1:{port}"

        parse_rates, e2e_rates = [], []
        broker = dramatiq.get_broker()
        profiler = cProfile.Profile()
        for round_, documents in enumerate(rounds):  # round 0 warms up (the actor registry, the symbol table): not counted
            started = time.perf_counter()
            parsed = sum(len(feedparser.parse(body).entries) for body in documents.values())
            parse_rates.append(parsed / (time.perf_counter() - started))

            stored_before = ArticleScore.objects.count()
            broker.flush_all()  # the analysis messages the last round sent (a worker elsewhere would take them)
            sources = [Source.objects.create(url=f"{base}{path}", name=path, credibility=3) for path in documents]
            if connection.vendor == "postgresql":
                # The planner's statistics, as autovacuum keeps them on a live table (it analyzes a table once
                # a tenth of its rows are new, waking once a minute): this bench grows the tables 25-fold in a
                # minute, and left alone the planner would take a 10,000-row table for the empty one it saw
                # first and scan it whole for a 50-row look-up.
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE articles_article, articles_articlescore, articles_articleticker, jobs_job")
            if args.profile and round_:
                profiler.enable()
            started = time.perf_counter()
            new = sum(result.new for result in polling.sources_poll(sources=sources))
            profiler.disable()
            e2e_rates.append(new / (time.perf_counter() - started))
            assert new == total_items == ArticleScore.objects.count() - stored_before, (new, total_items)
            if round_ == 0:
                parse_rates.clear()
                e2e_rates.clear()
        server.terminate()
    finally:
        connection.creation.destroy_test_db(db_name, verbosity=0)
        if not os.environ.get("REDIS_URL"):  # the embedded Redis this run started in its own var dir
            from newstunneler import embedded_redis

            embedded_redis.stop(os.environ["NT_VAR_DIR"])

    if args.profile:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(args.profile)
    parse_rate, e2e_rate = statistics.median(parse_rates), statistics.median(e2e_rates)
    print(f"database: {connection.vendor}; {args.feeds} feeds x {args.items} items = {total_items} items; "
          f"median of {args.rounds} rounds after a warm-up")
    print(f"feedparser.parse only (baseline): {parse_rate:8.0f} items/s")
    print(f"end to end (fetch+parse+dedupe+score+store): {e2e_rate:8.0f} items/s")
    if os.environ.get("BENCH_ROUNDS"):
        print("rounds (parse, e2e):", [(round(p), round(e)) for p, e in zip(parse_rates, e2e_rates, strict=True)])
    rounds = sorted(e2e / parse for e2e, parse in zip(e2e_rates, parse_rates, strict=True))
    print(f"ratio end-to-end / parse: {e2e_rate / parse_rate:.2f}  (goal >= 0.8; "
          f"round by round {rounds[0]:.2f}-{rounds[-1]:.2f})")


if __name__ == "__main__":
    main()
