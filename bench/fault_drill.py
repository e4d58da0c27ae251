"""Fault drill: 1,000 jobs through the ledger while workers are SIGKILLed 5 times at random and Redis
is flushed once; the reconciler runs every 2 s. Reports jobs enqueued, succeeded, dead, lost (must be
0) and duplicate runs, for each of two rounds.

    .venv/bin/python bench/fault_drill.py [--jobs 1000] [--kills 5] [--rounds 2]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/15 .venv/bin/python bench/fault_drill.py

Runs against a throwaway database and (without REDIS_URL) its own embedded Redis. With REDIS_URL the
flush is FLUSHDB of that database only.
"""

import argparse
import collections
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.jobs import throwaway_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def start_workers(env):
    return subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "bench.jobs_app", "--processes", "2", "--threads", "8", "--queues", "drill",
         "--skip-logging"], env=env, cwd=ROOT, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def kill_workers(proc):
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


def main():
    parser = argparse.ArgumentParser(description="kill workers and flush Redis under load; count what is lost")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--timeout", type=int, default=300, help="seconds to wait for every job to end")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="nt-drill-")
    db_env, drop = throwaway_database(tmp)
    env = {**os.environ, **db_env, "NT_BENCH_MODE": "ledger", "NT_LOG_LEVEL": "error", "NT_WORKER_METRICS": "0",
           "NT_BROKER_HEARTBEAT_TIMEOUT": "5000", "NT_JOBS_WORKER_DEAD_AFTER": "15", "NT_JOBS_RECONCILE_GRACE": "10"}
    os.environ.update(env)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)

    import bench.jobs_app as app  # Django is set up with the environment above
    from django.db import transaction
    from django_redis import get_redis_connection

    from apps.jobs.enqueue import enqueue
    from apps.jobs.models import Job
    from apps.jobs.services import jobs_reconcile

    try:
        for round_no in range(1, args.rounds + 1):
            log = Path(tmp) / f"runs-{round_no}.log"
            log.touch()
            os.environ["NT_DRILL_LOG"] = env["NT_DRILL_LOG"] = str(log)
            Job.objects.all().delete()
            started = time.monotonic()
            with transaction.atomic():
                ids = [enqueue("drill", n) for n in range(args.jobs)]
            workers = start_workers(env)
            kill_times = sorted(random.uniform(2, 12) for _ in range(args.kills))
            flush_at = random.uniform(3, 10)
            flushed = False
            events = []
            while True:
                elapsed = time.monotonic() - started
                if kill_times and elapsed >= kill_times[0]:
                    kill_times.pop(0)
                    kill_workers(workers)
                    events.append(f"{elapsed:5.1f}s SIGKILL workers")
                    time.sleep(random.uniform(0.2, 1.5))
                    workers = start_workers(env)
                if not flushed and elapsed >= flush_at:
                    get_redis_connection("default").flushdb()
                    flushed = True
                    events.append(f"{elapsed:5.1f}s Redis flushed")
                jobs_reconcile(broker=app.broker)
                ended = Job.objects.filter(pk__in=ids, status__in=["succeeded", "dead"]).count()
                if (ended == args.jobs and not kill_times and flushed) or elapsed > args.timeout:
                    break
                time.sleep(2)
            kill_workers(workers)
            statuses = collections.Counter(Job.objects.filter(pk__in=ids).values_list("status", flat=True))
            runs = collections.Counter(int(line) for line in log.read_text().split())
            succeeded, dead = statuses.get("succeeded", 0), statuses.get("dead", 0)
            never_ran = args.jobs - len(runs)
            print(f"round {round_no}: " + "; ".join(events))
            print(f"round {round_no}: enqueued {args.jobs}, succeeded {succeeded}, dead {dead}, "
                  f"lost {args.jobs - succeeded - dead} (never ran: {never_ran}), "
                  f"ran twice or more {sum(1 for c in runs.values() if c > 1)}, in {time.monotonic() - started:.0f}s")
    finally:
        if not os.environ.get("REDIS_URL"):
            from newstunneler import embedded_redis

            embedded_redis.stop(tmp)
        from django.db import connections

        connections.close_all()
        drop()


if __name__ == "__main__":
    main()
