"""Polling at scale: one full polling cycle of N sources (100,000 by default) served on loopback, through
the real stack: the scheduled fan-out (poll_due_sources, enqueue_many), the broker, the job ledger and
real worker processes with the default worker settings (NT_WORKER_PROCESSES x NT_WORKER_THREADS, or
--processes/--threads).

    .venv/bin/python bench/polling.py [--sources 100000] [--changed 0.05] [--processes P] [--threads T]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/polling.py

A feed server (asyncio, HTTP/1.1 keep-alive, its own process) answers most feeds 304 Not Modified
(their ETag matches) and a share (--changed) 200 with 5 new stories each. The baseline, measured in
the same run before and after the cycle, is plain conditional GETs of the same feeds with httpx from
as many threads as the workers have, no database and no queue: the ratio says what the pipeline costs
over fetching alone. The target is one cycle of 100,000 sources within 5 minutes.

It uses a throwaway database (a temporary SQLite file, or a new PostgreSQL database next to the one
DATABASE_URL names) and its own broker namespace and cache prefix; all are removed at the end.
"""

import argparse
import asyncio
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.jobs import scratch_dir, throwaway_database  # noqa: E402

ETAG = '"v1"'


# --- the feed server ---------------------------------------------------------------------------


def _feed(n: int, cycle: int) -> bytes:
    items = "".join(
        f"<item><title>Company {n} story {cycle}-{i}: shares rise after earnings beat</title>"
        f"<link>https://feeds.example.com/{n}/{cycle}/{i}</link>"
        f"<description>Company {n} reported results above estimates ({cycle}-{i}).</description>"
        f"<pubDate>Thu, 03 Dec 2026 10:{i:02d}:00 +0000</pubDate></item>" for i in range(5))
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
            f"<link>https://feeds.example.com/{n}</link><description>bench</description>{items}</channel></rss>").encode()


def serve(port_file: str, changed_every: int) -> None:
    """Run the feed server until killed; writes its port to port_file."""
    hits: dict[int, int] = {}

    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                inm = next((line.split(":", 1)[1].strip() for line in lines[1:]
                            if line.lower().startswith("if-none-match:")), "")
                n = int(path.rsplit("/", 1)[1]) if path.startswith("/feed/") else -1
                if n < 0:
                    status, body, extra = "404 Not Found", b"", ""
                elif n % changed_every and inm == ETAG:
                    status, body, extra = "304 Not Modified", b"", f"ETag: {ETAG}\r\n"
                else:
                    hits[n] = hits.get(n, 0) + 1
                    status, body = "200 OK", _feed(n, hits[n])
                    extra = f"ETag: {ETAG}\r\n" if n % changed_every else f'ETag: "c{hits[n]}"\r\n'
                writer.write((f"HTTP/1.1 {status}\r\nContent-Type: application/rss+xml\r\n{extra}"
                              f"Content-Length: {len(body)}\r\n\r\n").encode() + body)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, IndexError, ValueError):
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
        Path(port_file).write_text(str(server.sockets[0].getsockname()[1]))
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# --- the baseline: plain conditional GETs ----------------------------------------------------------


def raw_fetch_rate(base: str, count: int, threads: int, offset: int) -> float:
    import httpx

    numbers = list(range(offset, offset + count))
    lock = threading.Lock()

    def work():
        with httpx.Client() as client:
            while True:
                with lock:
                    if not numbers:
                        return
                    n = numbers.pop()
                response = client.get(f"{base}/feed/{n}", headers={"If-None-Match": ETAG})
                response.read()

    started = time.perf_counter()
    pool = [threading.Thread(target=work) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return count / (time.perf_counter() - started)


# --- the run ---------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description="one polling cycle of many sources through the real stack")
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.05, help="share of feeds answering 200 with new stories")
    parser.add_argument("--processes", type=int, help="worker processes (default: NT_WORKER_PROCESSES, 1)")
    parser.add_argument("--threads", type=int, help="threads per worker process (default: NT_WORKER_THREADS, 4)")
    parser.add_argument("--baseline", type=int, default=10_000, help="GETs per baseline measurement")
    parser.add_argument("--serve", nargs=2, metavar=("PORT_FILE", "CHANGED_EVERY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve[0], int(args.serve[1]))

    tmp = scratch_dir("nt-bench-polling-")
    env, drop = throwaway_database(tmp)
    tag = f"ntbench-{uuid.uuid4().hex[:8]}"
    env.update({"NT_BROKER_NAMESPACE": tag, "NT_CACHE_PREFIX": tag, "NT_LOG_LEVEL": "warning",
                "NT_WORKER_METRICS": "0", "NT_ALLOW_PRIVATE_FEEDS": "1", "DJANGO_SETTINGS_MODULE": "newstunneler.settings"})
    os.environ.update(env)
    changed_every = max(1, round(1 / args.changed)) if args.changed > 0 else 10**9
    port_file = Path(tmp) / "port"
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port_file), str(changed_every)], cwd=ROOT)
    worker = None
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], env=os.environ, cwd=ROOT, check=True)
        import django

        django.setup()
        from django.conf import settings
        from django.db import transaction

        from apps.articles.models import Article, Source
        from apps.jobs.enqueue import enqueue
        from apps.jobs.models import Job

        processes = args.processes or settings.WORKER_PROCESSES
        threads = args.threads or settings.WORKER_THREADS
        while not port_file.exists():
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port_file.read_text()}"

        started = time.perf_counter()
        Source.objects.bulk_create(
            [Source(url=f"{base}/feed/{n}", name=f"feed {n}", etag=ETAG, credibility=3) for n in range(args.sources)],
            batch_size=5000)
        print(f"{args.sources} sources created in {time.perf_counter() - started:.1f} s; "
              f"{processes} worker process(es) x {threads} threads; {settings.DB_VENDOR}", flush=True)

        before = raw_fetch_rate(base, args.baseline, processes * threads, offset=0)
        print(f"baseline (plain conditional GETs, {processes * threads} threads): {before:7.0f} feeds/s", flush=True)

        worker = subprocess.Popen([sys.executable, "manage.py", "rundramatiq", "--skip-logging", "--processes",
                                   str(processes), "--threads", str(threads)], env=os.environ, cwd=ROOT)
        time.sleep(3)  # let the workers import and connect: the cycle is timed from the fan-out
        with transaction.atomic():
            fan_out = enqueue("poll_due_sources")
        started = time.perf_counter()
        last_report, remaining = started, args.sources
        while remaining:
            time.sleep(1)
            remaining = Source.objects.filter(last_polled_at__isnull=True).count()
            if time.perf_counter() - last_report >= 10:
                last_report = time.perf_counter()
                done = args.sources - remaining
                print(f"  {last_report - started:6.0f} s: {done} polled ({done / (last_report - started):.0f}/s)", flush=True)
            if time.perf_counter() - started > 3600:
                raise SystemExit(f"gave up after an hour with {remaining} sources not polled")
        cycle = time.perf_counter() - started
        job = Job.objects.get(pk=fan_out)
        failed = Source.objects.exclude(last_error_kind="").count()
        articles = Article.objects.count()

        after = raw_fetch_rate(base, args.baseline, processes * threads, offset=args.baseline)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(60)
        server.terminate()
        server.wait(10)
        cleanup = ("from django.core.cache import cache; import dramatiq; b = dramatiq.get_broker(); "
                   f"[b.client.delete(k) for k in list(b.client.scan_iter('{tag}:*', count=1000))]")
        subprocess.run([sys.executable, "manage.py", "shell", "-c", cleanup], env=os.environ, cwd=ROOT, check=False)
        if not os.environ.get("REDIS_URL"):
            subprocess.run([sys.executable, "-c", f"from newstunneler import embedded_redis as e; e.stop({tmp!r})"],
                           cwd=ROOT, check=False)
        drop()
    rate, baseline = args.sources / cycle, (before + after) / 2
    print(f"one cycle: {args.sources} sources in {cycle:.1f} s ({rate:.0f}/s); fan-out job {job.duration_ms or 0:.0f} ms; "
          f"{failed} failed; {articles} articles stored")
    print(f"baseline: {before:.0f} and {after:.0f} feeds/s (before and after the cycle)")
    print(f"ratio pipeline / plain GETs: {rate / baseline:.2f}")
    target = 300
    verdict = "within" if cycle <= target else "over"
    print(f"target: {args.sources} sources in {target} s: {verdict} ({cycle:.0f} s; at this rate one 5-minute "
          f"cycle covers {rate * target:.0f} sources)")


if __name__ == "__main__":
    main()
