"""Flag checks: cost per is_enabled() call (shared Redis cache vs local memory; memo fresh, memo expired
and answered while a background thread re-reads it, and a synchronous read), and requests/s of one view
checking 5 flags vs the same view checking none (gunicorn, 2 workers, loopback, alternating (ABBA) rounds, same
run), in a throwaway database and its own cache prefix.

    .venv/bin/python bench/flags.py [--seconds 3] [--rounds 3] [--clients 8]
    DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/flags.py
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.jobs import scratch_dir, throwaway_database  # noqa: E402
from bench.loadgen import alternating, gunicorn, load, medians  # noqa: E402


def per_call(iterations: int = 20000) -> dict[str, float]:
    """Microseconds per is_enabled(): memo fresh; memo expired (answered while the background thread
    reads it again: what a check costs every 2 s); and a synchronous read (the first check of a flag in a
    process, or one after a write cleared the memo), through the Redis cache and a local-memory one."""
    import django
    from django.core.cache import caches
    from django.test import override_settings

    django.setup()
    from apps import flags
    from apps.flags import checks

    results = {}
    for label, cache_settings in [("redis cache", None), ("local memory cache", {
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})]:
        context = override_settings(CACHES=cache_settings) if cache_settings else override_settings()
        with context:
            caches._settings = None if cache_settings else caches._settings
            for case in ("memo fresh", "memo expired", "synchronous read"):
                checks.clear_local_cache()
                flags.is_enabled("rss_polling")
                n = iterations if case != "synchronous read" else iterations // 10
                checks.LOCAL_TTL = 0.0 if case == "memo expired" else 2.0
                start = time.perf_counter()
                for _ in range(n):
                    if case == "synchronous read":
                        checks.clear_local_cache()
                    flags.is_enabled("rss_polling")
                results[f"{label}, {case}"] = (time.perf_counter() - start) / n * 1e6
                checks.LOCAL_TTL = 2.0
                checks._refresher.wait_idle()
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3, help="per round and side")
    parser.add_argument("--rounds", type=int, default=3, help="the two views alternate; medians are reported")
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    tmp = scratch_dir("nt-bench-flags-")
    db_env, drop = throwaway_database(tmp)  # never the database DATABASE_URL names
    os.environ.update({**db_env, "DJANGO_SETTINGS_MODULE": "bench.flags_settings", "NT_LOG_LEVEL": "warning",
                       "NT_CACHE_PREFIX": f"ntbench{os.getpid()}"})
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True, env=os.environ)
    try:
        with gunicorn(dict(os.environ), tmp, ready_path="/none") as port:
            load(port, "/none", 1, args.clients), load(port, "/five", 1, args.clients)  # warm up
            runs = alternating(port, {"none": ("/none", None), "five": ("/five", None)}, args.rounds, args.seconds,
                               args.clients)
            none, five = runs["none"], runs["five"]
        costs = per_call()
    finally:
        if not os.environ.get("REDIS_URL"):
            from newstunneler import embedded_redis

            embedded_redis.stop(os.environ["NT_VAR_DIR"])
        drop()
    for label, micros in costs.items():
        print(f"is_enabled(), {label}: {micros:8.1f} us per call")
    (none_rate, none_p99), (five_rate, five_p99) = medians(none), medians(five)
    ratios = sorted(f[0] / n[0] for n, f in zip(none, five, strict=True))
    print(f"view checking no flag:    {none_rate:7.0f} req/s  p99 {none_p99:5.1f} ms  (median of {args.rounds} rounds)")
    print(f"view checking five flags: {five_rate:7.0f} req/s  p99 {five_p99:5.1f} ms")
    print(f"ratio five / none: {five_rate / none_rate:.2f}  (per round: {', '.join(f'{r:.2f}' for r in ratios)}; "
          f"goal >= 0.90)")


if __name__ == "__main__":
    main()
