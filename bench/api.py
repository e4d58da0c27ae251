"""API overhead: GET /api/v1/signals/?page_size=50 (API-key auth, role, metering, quotas and flags on) vs
a plain Django JsonResponse view of the same 50 rows (the article joined for its title and URL, as the
API does); gunicorn with 2 workers, same run, the two sides alternating. The tables hold what
bench/scale.py loads: 1,000,000 signals and 200,000 articles on PostgreSQL, 100,000 / 20,000 on SQLite.

    .venv/bin/python bench/api.py [--seconds 2] [--rounds 9] [--clients 8] [--threads 1]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/api.py
"""

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.jobs import scratch_dir, throwaway_database  # noqa: E402
from bench.loadgen import alternating, gunicorn, load, medians  # noqa: E402

SETUP = """
import django, sys
django.setup()
from bench import scale
from django.core.management import call_command
from apps.signals.models import Signal
articles, signals = int(sys.argv[1]), int(sys.argv[2])
if not Signal.objects.exists():
    seconds = scale.load(articles, signals, 1000, 500)
    print(f"loaded {articles:,} articles and {signals:,} signals in {seconds:.0f} s", file=sys.stderr)
from apps.billing.models import Account, Plan
from django.contrib.auth.models import User
Account.objects.filter(name="bench").delete(); Plan.objects.filter(name="bench").delete()
User.objects.filter(username="bench").delete()
print(scale.api_key())
"""


def main():
    parser = argparse.ArgumentParser(description="DRF signals list vs a plain Django view")
    parser.add_argument("--seconds", type=float, default=2, help="per round and side")
    parser.add_argument("--rounds", type=int, default=9,
                        help="plain and API alternate; rates and p99 are medians, the ratio is of all requests")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per gunicorn worker (1: sync workers; make run serves 8, NT_WEB_THREADS)")
    sqlite = not os.environ.get("DATABASE_URL")
    parser.add_argument("--articles", type=int, default=20_000 if sqlite else 200_000)
    parser.add_argument("--signals", type=int, default=100_000 if sqlite else 1_000_000)
    parser.add_argument("--reuse", metavar="URL", help="a database bench/scale.py --keep left (no load)")
    args = parser.parse_args()
    tmp = scratch_dir("nt-bench-api-")
    if args.reuse:
        db_env, drop = {"DATABASE_URL": args.reuse, "NT_VAR_DIR": tmp}, (lambda: None)
    else:
        db_env, drop = throwaway_database(tmp)
    env = {**os.environ, **db_env, "DJANGO_SETTINGS_MODULE": "bench.api_settings", "NT_LOG_LEVEL": "warning",
           # a fresh database reuses account ids: keep this run's quota counters apart from earlier runs'
           "NT_CACHE_PREFIX": f"ntbench{os.getpid()}"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    setup = subprocess.run([sys.executable, "-c", SETUP, str(args.articles), str(args.signals)], cwd=ROOT, env=env,
                           check=True, stdout=subprocess.PIPE, text=True)
    key = setup.stdout.split()[-1]
    api_path, headers = "/api/v1/signals/?page_size=50", {"Authorization": f"Api-Key {key}"}
    try:
        with gunicorn(env, tmp, threads=args.threads) as port:
            load(port, "/bench/plain-signals", 1, args.clients), load(port, api_path, 1, args.clients, headers)  # warm up
            runs = alternating(port, {"plain": ("/bench/plain-signals", None), "api": (api_path, headers)},
                               args.rounds, args.seconds, args.clients)
            plain, api = runs["plain"], runs["api"]
            (plain_rate, plain_p99), (api_rate, api_p99) = medians(plain), medians(api)
            ratios = sorted(a[0] / p[0] for p, a in zip(plain, api, strict=True))
    finally:
        if not os.environ.get("REDIS_URL"):
            os.environ["NT_VAR_DIR"] = tmp
            from newstunneler import embedded_redis

            embedded_redis.stop(tmp)
        drop()
    database = "postgresql" if "DATABASE_URL" in db_env else "sqlite"
    print(f"{database}; {args.signals:,} signals, {args.articles:,} articles; gunicorn 2 workers x {args.threads} "
          f"thread(s); {args.clients} "
          f"loopback clients; {args.rounds} alternating rounds of {args.seconds:g} s per side; 50 rows")
    print(f"plain Django JsonResponse:        {plain_rate:7.0f} req/s  p99 {plain_p99:5.1f} ms")
    print(f"DRF signals list (key, metering): {api_rate:7.0f} req/s  p99 {api_p99:5.1f} ms")
    # The ratio of all requests served (each side had the same seconds, spread alike over the run); and,
    # as a check on drift, the median of each round's ratio (a round: one slice of each side).
    total = sum(rate for rate, _ in api) / sum(rate for rate, _ in plain)
    print(f"ratio DRF / plain: {total:.2f}  (median of rounds {statistics.median(ratios):.2f}; per round: "
          f"{', '.join(f'{r:.2f}' for r in ratios)}; goal >= 0.8, p99 < 40 ms on PostgreSQL)")


if __name__ == "__main__":
    main()
