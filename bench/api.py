"""API overhead: GET /api/v1/signals/?page_size=50 (API-key auth, metering, quotas and flags on) vs
a plain Django JsonResponse view of the same 50 rows; gunicorn with 2 workers, same run.

    .venv/bin/python bench/api.py [--seconds 3] [--rounds 3] [--clients 8]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/api.py
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import gunicorn, load  # noqa: E402
from bench.jobs import throwaway_database  # noqa: E402

SETUP = """
import django, sys
django.setup()
from datetime import UTC, datetime, timedelta
from apps.billing import services
from apps.billing.models import Account, Plan
from apps.signals.models import Signal
from django.contrib.auth.models import User
from apps.billing.roles import ensure_roles
Signal.objects.bulk_create([Signal(symbol=f"S{n % 40}", t=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=n),
    score=40 + n % 60, label="Watch", stance="BULLISH", reasons=[{"factor": "sentiment", "contribution": 12.0}],
    features={"sentiment": 0.5, "magnitude": 0.4}) for n in range(200)])
user = User.objects.create_user("bench", password="x")
user.groups.add(ensure_roles()["viewer"])
# Limits no run reaches (quotas are still checked: rate_limiting stays on); enterprise allows 3,000/min.
plan = Plan.objects.create(name="bench", requests_per_minute=10**9, requests_per_day=10**9, analyses_per_month=0,
                           llm_budget_usd=0)
account = Account.objects.create(owner=user, name="bench", plan=plan)
print(services.api_key_create(account=account, name="bench")[1])
"""


def main():
    parser = argparse.ArgumentParser(description="DRF signals list vs a plain Django view")
    parser.add_argument("--seconds", type=float, default=3, help="per round and side")
    parser.add_argument("--rounds", type=int, default=3, help="plain and API alternate; medians are reported")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="nt-bench-api-")
    db_env, drop = throwaway_database(tmp)
    env = {**os.environ, **db_env, "DJANGO_SETTINGS_MODULE": "bench.api_settings", "NT_LOG_LEVEL": "warning",
           # a fresh database reuses account ids: keep this run's quota counters apart from earlier runs'
           "NT_CACHE_PREFIX": f"ntbench{os.getpid()}"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    key = subprocess.run([sys.executable, "-c", SETUP], cwd=ROOT, env=env, check=True, capture_output=True,
                         text=True).stdout.split()[-1]
    api_path, headers = "/api/v1/signals/?page_size=50", {"Authorization": f"Api-Key {key}"}
    try:
        with gunicorn(env, tmp) as port:
            load(port, "/bench/plain-signals", 1, args.clients), load(port, api_path, 1, args.clients, headers)  # warm up
            plain, api = [], []
            for _ in range(args.rounds):  # alternating, so drift on a shared machine hits both sides alike
                plain.append(load(port, "/bench/plain-signals", args.seconds, args.clients))
                api.append(load(port, api_path, args.seconds, args.clients, headers))
            (plain_rate, plain_p99), (api_rate, api_p99) = medians(plain), medians(api)
            ratios = sorted(a[0] / p[0] for p, a in zip(plain, api))
    finally:
        if not os.environ.get("REDIS_URL"):
            os.environ["NT_VAR_DIR"] = tmp
            from newstunneler import embedded_redis

            embedded_redis.stop(tmp)
        drop()
    database = "postgresql" if "DATABASE_URL" in db_env else "sqlite"
    print(f"{database}; gunicorn 2 workers; {args.clients} loopback clients; {args.rounds} alternating rounds of "
          f"{args.seconds:.0f} s per side (medians); 50 rows")
    print(f"plain Django JsonResponse:        {plain_rate:7.0f} req/s  p99 {plain_p99:5.1f} ms")
    print(f"DRF signals list (key, metering): {api_rate:7.0f} req/s  p99 {api_p99:5.1f} ms")
    print(f"ratio DRF / plain: {api_rate / plain_rate:.2f}  (per round: {', '.join(f'{r:.2f}' for r in ratios)}; "
          f"goal >= 0.70, p99 < 60 ms on PostgreSQL)")


def medians(results: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(r for r, _ in results), statistics.median(p for _, p in results)


if __name__ == "__main__":
    main()
