"""Read endpoints at scale: N articles and M signals loaded fast (COPY on PostgreSQL) into a throwaway
database, then every signals and articles read endpoint through the real API stack (API-key auth, role
permissions, metering, quotas, flags), p50 and p95, cold and warm.

    .venv/bin/python bench/scale.py                     # SQLite: 20,000 articles, 100,000 signals
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/14 \\
        .venv/bin/python bench/scale.py                 # PostgreSQL: 200,000 articles, 1,000,000 signals
    ... bench/scale.py --articles 50000 --signals 250000 --verbose   # EXPLAIN of each endpoint's queries

Cold is the first request of each URL, with the hot cache (redis_caching) off; warm is the same URL
again, still uncached. (The database's own buffers are never dropped: "cold" is per query, not per
machine.) Each endpoint is asked 20 different URLs where it has parameters (20 search words, 20
symbols ...); one without (latest) is asked 20 times, the first counting as cold. The baseline in the
ratio column is the plain `SELECT ... ORDER BY id DESC LIMIT 50` of signals through the same client
and stack shape, asked alternately with each endpoint. With --check the run exits 1 when an endpoint's
cold p95 is over --target ms (100) or, on PostgreSQL, a query plan scans a big table sequentially.
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.jobs import run_child, scratch_dir, throwaway_database  # noqa: E402

NOW = datetime.now(UTC).replace(microsecond=0)
WORDS = ("earnings guidance merger acquisition dividend buyback lawsuit recall upgrade downgrade contract "
         "approval layoffs restructuring outlook revenue profit loss forecast partnership offering patent "
         "investigation settlement expansion shipments margins demand supply tariff subsidy").split()
FILLER = ("the company said on shares quarter year results analysts expected market investors reported "
          "announced plans statement week month after before while record higher lower strong weak").split()
SEARCH = ["earnings", "guidance", "merger", "dividend", "lawsuit", "recall", "upgrade", "layoffs", "tariff",
          "patent", "outlook revenue", "profit warning", "buyback", "settlement", "subsidy", "acquisition",
          "partnership", "shipments", "AAPL", "NVDA"]  # words common and rare, two phrases, two symbols
LABELS = ["High-Conviction", "Opportunity", "Watch", "Ignore"]


def symbols(n: int) -> list[str]:
    table = [line.split(",")[0] for line in (ROOT / "apps/articles/data/symbols.csv").read_text().splitlines()[1:]]
    table = [s for s in table if s.isalpha()][:n]
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    extra = (a + b + c + d for a in letters for b in letters for c in letters for d in letters)
    while len(table) < n:
        candidate = next(extra)
        if candidate not in table:
            table.append(candidate)
    for must in ("AAPL", "NVDA"):
        if must not in table:
            table[len(table) - 1 - ("AAPL", "NVDA").index(must)] = must
    return table


def rows(n_articles: int, n_signals: int, n_symbols: int, n_sources: int):
    """(sources, articles, tickers, scores, signals) as tuples in COPY column order. Word frequencies
    are skewed (Zipf-like), so some searches match a fifth of the articles and some a few hundred."""
    rnd = random.Random(42)
    syms = symbols(n_symbols)
    weights = [1 / (i + 1) for i in range(len(WORDS))]
    per_article = max(1, round(n_signals / n_articles))
    span = timedelta(days=90).total_seconds()
    sources = [(i, f"https://feeds{i}.example.com/rss", f"Feed {i}", True, 15, 3.0, "", "", "", "", None, None,
                None, 0, "", "", "", 0, NOW, "rss", "{}") for i in range(1, n_sources + 1)]
    articles, tickers, scores, signals = [], [], [], []
    signal_id = 0
    for a in range(1, n_articles + 1):
        published = NOW - timedelta(seconds=span * (a / n_articles) ** 1.5) - timedelta(microseconds=a)
        topic = rnd.choices(WORDS, weights)[0]
        picked = rnd.sample(syms, min(per_article, len(syms)))
        company = picked[0]
        title = f"{company} {topic} {' '.join(rnd.choices(FILLER, k=5))} {rnd.choices(WORDS, weights)[0]}"
        summary = " ".join(rnd.choices(FILLER + WORDS, k=30))
        matches = [{"symbol": s, "confidence": 0.9, "how": "cashtag", "text": f"${s}"} for s in picked[:2]]
        articles.append((a, f"https://news.example.com/{a}", f"{a:064x}", title, f"{a:064x}", summary,
                         json.dumps(matches), published, published, (a % n_sources) + 1, "news", "{}"))
        tickers += [(a, m["symbol"], 0.9) for m in matches]
        total = round(rnd.uniform(10, 95), 2)
        scores.append((a, 1.0, 1.0, 3.0, 0.2, 0.5, total, "{}", published))
        for s in picked:
            if signal_id >= n_signals:
                break
            signal_id += 1
            score = round(rnd.uniform(20, 99), 2)
            label = LABELS[0] if score >= 75 else LABELS[1] if score >= 60 else LABELS[2] if score >= 45 else LABELS[3]
            signals.append((signal_id, s, published, score, label, rnd.choice(["BULLISH", "BEARISH", "NEUTRAL"]),
                            '[{"factor": "sentiment", "contribution": 12.0}]', '{"sentiment": 0.5}', published,
                            published, a, ""))
    return sources, articles, tickers, scores, signals


TABLES = {
    "articles_source": "id, url, name, enabled, poll_interval_minutes, credibility, site_url, feed_title, etag, "
                       "last_modified, last_polled_at, last_success_at, next_poll_at, consecutive_failures, "
                       "last_error_kind, last_error, last_warning, articles_ingested, created_at, kind, cursor",
    "articles_article": "id, url, url_hash, title, title_fingerprint, summary, tickers, published_at, fetched_at, "
                        "source_id, platform, meta",
    "articles_articleticker": "article_id, symbol, confidence",
    "articles_articlescore": "article_id, catalyst, novelty, credibility, sentiment, liquidity, total, details, "
                             "scored_at",
    "signals_signal": "id, symbol, t, score, label, stance, reasons, features, created_at, updated_at, article_id, "
                      "model_version",
}


def load(n_articles: int, n_signals: int, n_symbols: int, n_sources: int) -> float:
    from django.db import connection

    started = time.perf_counter()
    data = dict(zip(TABLES, rows(n_articles, n_signals, n_symbols, n_sources), strict=True))
    raw = connection.connection if connection.connection else (connection.ensure_connection() or connection.connection)
    if connection.vendor == "postgresql":
        with raw.cursor() as cursor:
            for table, columns in TABLES.items():
                with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                    for row in data[table]:
                        copy.write_row(row)
            for table in ("articles_source", "articles_article", "signals_signal"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        raw.commit()
        with raw.cursor() as cursor:
            raw.autocommit = True
            cursor.execute("VACUUM ANALYZE")
            raw.autocommit = False
    else:
        for table, columns in TABLES.items():
            marks = ", ".join("?" * len(columns.split(",")))
            values = [tuple(connection.ops.adapt_datetimefield_value(v) if isinstance(v, datetime) else v for v in row)
                      for row in data[table]]  # stored as Django stores them: SQLite compares them as text
            raw.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
        raw.commit()
        raw.execute("ANALYZE")
    connection.close()  # Django's next query opens a fresh connection in its own autocommit state
    return time.perf_counter() - started


def api_key() -> str:
    from django.contrib.auth.models import User

    from apps.billing import services
    from apps.billing.models import Account, Plan
    from apps.billing.roles import ensure_roles

    user = User.objects.create_user("bench", password="x")
    user.groups.add(ensure_roles()["analyst"])
    plan = Plan.objects.create(name="bench", requests_per_minute=10**9, requests_per_day=10**9,
                               analyses_per_month=0, llm_budget_usd=0, features=["signal_search"])
    return services.api_key_create(account=Account.objects.create(owner=user, name="bench", plan=plan), name="bench")[1]


def endpoints(syms: list[str], n_sources: int, deep_cursors: list[str]) -> dict[str, list[str]]:
    rnd = random.Random(7)
    some = rnd.sample(syms[:200], 20)
    return {
        "signals search ?q=": [f"/api/v1/signals/search/?q={w.replace(' ', '+')}" for w in SEARCH],
        "signals latest": ["/api/v1/signals/latest/"] * 20,
        "signals top": [f"/api/v1/signals/top/?hours={h}&limit=20" for h in range(1, 21)],
        "signals by symbol": [f"/api/v1/signals/?symbol={s}" for s in some],
        "signals by label": [f"/api/v1/signals/?label={label}" + (f"&min_score={low + step}" if step else "")
                             for label, low in zip(LABELS, (75, 60, 45, 0), strict=True) for step in (0, 1, 3, 5, 8)],
        "signals deep cursor": [f"/api/v1/signals/?cursor={c}" for c in deep_cursors],
        "articles ?q=": [f"/api/v1/articles/?q={w.replace(' ', '+')}" for w in SEARCH],
        "articles ?ticker=": [f"/api/v1/articles/?ticker={s}" for s in some],
        "articles ?source=": [f"/api/v1/articles/?source={1 + (i * 37) % n_sources}" for i in range(20)],
    }


def deep_cursors(n: int) -> list[str]:
    """Cursors of the signals list (-t, -id) positioned at 20 depths across the whole table, as a client
    that followed `next` links that far would hold them."""
    from base64 import b64encode
    from urllib.parse import quote, urlencode

    from apps.signals.models import Signal

    cursors = []
    for i in range(20):
        t = Signal.objects.order_by("-t", "-id").values_list("t", flat=True)[int(n * (i + 1) / 21)]
        token = b64encode(urlencode({"p": str(t)}, doseq=True).encode()).decode()
        cursors.append(quote(token))
    return cursors


def timed(client, url: str, headers: dict) -> float:
    started = time.perf_counter()
    response = client.get(url, **headers)
    took = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url}: {response.status_code} {response.content[:300]!r}")
    return took


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def explain(client, url: str, headers: dict) -> list[tuple[str, str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url, **headers)
    plans = []
    for query in captured.captured_queries:
        sql = query["sql"]
        if not sql.lstrip().upper().startswith("SELECT") or "billing_" in sql or "auth_" in sql or "waffle" in sql:
            continue
        with connection.cursor() as cursor:
            prefix = "EXPLAIN (ANALYZE, BUFFERS) " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
            cursor.execute(prefix + sql)
            plans.append((sql, "\n".join(" | ".join(str(c) for c in row) for row in cursor.fetchall())))
    return plans


BIG_TABLES = ("signals_signal", "articles_article", "articles_articleticker", "articles_articlescore")


def measure(args) -> int:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from apps.flags import services as flag_services
    from apps.signals.models import Signal

    vendor = connection.vendor
    if args.reuse:
        seconds = 0.0
        from django.contrib.auth.models import User

        from apps.billing.models import Account, Plan

        Account.objects.filter(name="bench").delete()
        Plan.objects.filter(name="bench").delete()
        User.objects.filter(username="bench").delete()
    else:
        call_command("migrate", verbosity=0)
        seconds = load(args.articles, args.signals, args.symbols, args.sources)
    print(f"{vendor}: loaded {args.articles:,} articles, {Signal.objects.count():,} signals, {args.symbols:,} symbols, "
          f"{args.sources} sources in {seconds:.0f} s")
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {api_key()}", "HTTP_HOST": "localhost"}
    flag_services.flag_set(name="redis_caching", enabled=False)
    client = Client()
    baseline = "/api/v1/signals/?page_size=50"
    timed(client, baseline, headers)  # the process's first request pays imports: not counted
    urls = endpoints(symbols(args.symbols), args.sources, deep_cursors(args.signals))
    failed = []
    print(f"{'endpoint':<22} {'cold p50':>9} {'cold p95':>9} {'warm p50':>9} {'warm p95':>9} {'baseline p50':>13} "
          f"{'ratio':>6}  (ms; ratio = baseline p50 / warm p50)")
    for name, batch in urls.items():
        cold, warm, base = [], [], []
        for url in batch:  # alternating with the baseline
            cold.append(timed(client, url, headers))
            base.append(timed(client, baseline, headers))
        for url in batch:
            warm.append(timed(client, url, headers))
            base.append(timed(client, baseline, headers))
        if len(set(batch)) == 1:  # one URL: only its first request was cold
            cold, warm = cold[:1], cold[1:] + warm
        ratio = statistics.median(base) / statistics.median(warm)
        print(f"{name:<22} {statistics.median(cold):9.1f} {pct(cold, 95):9.1f} {statistics.median(warm):9.1f} "
              f"{pct(warm, 95):9.1f} {statistics.median(base):13.1f} {ratio:6.2f}")
        if pct(cold, 95) > args.target:
            failed.append(f"{name}: cold p95 {pct(cold, 95):.0f} ms > {args.target} ms")
        if args.verbose or (args.check and vendor == "postgresql"):
            for sql, plan in explain(client, batch[0], headers):
                seq = [t for t in BIG_TABLES if f"Seq Scan on {t}" in plan]
                if seq and vendor == "postgresql":
                    failed.append(f"{name}: sequential scan of {', '.join(seq)}")
                if args.verbose:
                    print(f"  -- {batch[0]}\n  {sql[:600]}\n    " + plan.replace("\n", "\n    "))
    for problem in failed:
        print(f"CHECK: {problem}")
    return 1 if failed and args.check else 0


def main():
    sqlite = not os.environ.get("DATABASE_URL")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000 if sqlite else 200_000)
    parser.add_argument("--signals", type=int, default=100_000 if sqlite else 1_000_000)
    parser.add_argument("--symbols", type=int, default=1_000)
    parser.add_argument("--sources", type=int, default=500)
    parser.add_argument("--target", type=float, default=100.0, help="ms: the cold p95 --check holds each endpoint to")
    parser.add_argument("--verbose", action="store_true", help="print each endpoint's queries and their EXPLAIN")
    parser.add_argument("--check", action="store_true", help="exit 1 over the target or on a sequential scan")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway database (prints its URL)")
    parser.add_argument("--reuse", metavar="URL", help="measure a database an earlier --keep run left (no load)")
    parser.add_argument("--_child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args._child:
        sys.exit(measure(args))
    if args.signals > args.articles * 10:
        parser.error("at most 10 signals per article")
    tmp = scratch_dir("nt-bench-scale-", keep=bool(args.keep or args.reuse))
    if args.reuse:
        db_env, drop = {"DATABASE_URL": args.reuse, "NT_VAR_DIR": tmp}, (lambda: None)
        args.keep = True
    else:
        db_env, drop = throwaway_database(tmp)
    sys.exit(run_child(__file__, tmp, db_env, drop, keep=args.keep))


if __name__ == "__main__":
    main()
