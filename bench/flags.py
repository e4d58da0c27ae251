"""Flag checks: cost per is_enabled() call (shared Redis cache vs local memory, with and without the
per-process memo), and requests/s of one view checking 5 flags vs the same view checking none
(gunicorn, 2 workers, loopback, same run).

    .venv/bin/python bench/flags.py [--seconds 5] [--clients 8]
    DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/flags.py
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.loadgen import gunicorn, load  # noqa: E402


def per_call(iterations: int = 20000) -> dict[str, float]:
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
            for memo in (True, False):
                checks.clear_local_cache()
                flags.is_enabled("rss_polling")
                start = time.perf_counter()
                for _ in range(iterations if memo else iterations // 10):
                    if not memo:
                        checks.clear_local_cache()
                    flags.is_enabled("rss_polling")
                n = iterations if memo else iterations // 10
                results[f"{label}, {'with' if memo else 'without'} the 2 s memo"] = (time.perf_counter() - start) / n * 1e6
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="nt-bench-flags-")
    os.environ.setdefault("NT_VAR_DIR", tmp)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.flags_settings"
    os.environ["NT_LOG_LEVEL"] = "warning"
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, check=True, env=os.environ)
    try:
        with gunicorn(dict(os.environ), tmp, ready_path="/none") as port:
            load(port, "/none", 1, args.clients), load(port, "/five", 1, args.clients)  # warm up
            none_rate, none_p99 = load(port, "/none", args.seconds, args.clients)
            five_rate, five_p99 = load(port, "/five", args.seconds, args.clients)
        costs = per_call()
    finally:
        if not os.environ.get("REDIS_URL"):
            from newstunneler import embedded_redis

            embedded_redis.stop(os.environ["NT_VAR_DIR"])
    for label, micros in costs.items():
        print(f"is_enabled(), {label}: {micros:8.1f} us per call")
    print(f"view checking no flag:    {none_rate:7.0f} req/s  p99 {none_p99:5.1f} ms")
    print(f"view checking five flags: {five_rate:7.0f} req/s  p99 {five_p99:5.1f} ms")
    print(f"ratio five / none: {five_rate / none_rate:.2f}  (goal >= 0.90)")


if __name__ == "__main__":
    main()
