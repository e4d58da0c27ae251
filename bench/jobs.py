"""Job throughput: no-op jobs through raw Dramatiq vs through the job ledger, same Redis, same
database, same worker settings (2 processes x 8 threads), one run.

    .venv/bin/python bench/jobs.py [--jobs 20000] [--processes 2] [--threads 8]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/14 .venv/bin/python bench/jobs.py

It uses a throwaway database (a temporary SQLite file, or a new PostgreSQL database next to the
one DATABASE_URL names) and its own Redis key namespace; both are removed at the end. Each figure is
enqueue-all-then-drain: the clock starts once every worker process of the round has reported in
(each round has its own broker namespace and cache prefix, removed afterwards) and stops when every
message is acked; in ledger mode every row must then say succeeded. The two sides alternate, best of
--rounds each.
"""

import argparse
import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def scratch_dir(prefix: str, keep: bool = False) -> str:
    """A temporary directory for a run's files (its SQLite database, embedded Redis, secret key), removed
    when the process exits unless `keep` (a kept SQLite database lives there)."""
    path = tempfile.mkdtemp(prefix=prefix)
    if not keep:
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def throwaway_database(tmp: str) -> tuple[dict, callable]:
    env = {"NT_VAR_DIR": tmp}
    url = os.environ.get("DATABASE_URL")
    if not url:
        return env, lambda: None
    import psycopg

    parts = urlsplit(url)
    name = f"nt_bench_{uuid.uuid4().hex[:8]}"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    env["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    return env, drop


def run_child(script: str, tmp: str, db_env: dict, drop, *, keep: bool = False) -> int:
    """Run `script` again with this process's arguments and --_child, in the database db_env names (a
    throwaway one) and its own cache prefix; then stop the embedded Redis of `tmp` (if this mode has one)
    and drop the database, unless `keep`. Returns the child's exit code."""
    env = {**os.environ, **db_env, "NT_LOG_LEVEL": "warning", "NT_CACHE_PREFIX": f"ntbench{os.getpid()}",
           "DJANGO_SETTINGS_MODULE": "newstunneler.settings"}
    try:
        return subprocess.run([sys.executable, script, *sys.argv[1:], "--_child"], env=env, cwd=ROOT).returncode
    finally:
        if not os.environ.get("REDIS_URL"):
            subprocess.run([sys.executable, "-c", f"from newstunneler import embedded_redis as e; e.stop({tmp!r})"],
                           cwd=ROOT, check=False)
        if keep:
            print(f"kept: {db_env.get('DATABASE_URL') or tmp}")
        else:
            drop()


def run_mode(mode: str, jobs: int, processes: int, threads: int, env: dict) -> tuple[float, float]:
    """One round: enqueue every job, then start the workers and time the drain. Each round has its own
    broker namespace and cache prefix (nothing shared with another run on the same Redis), removed after."""
    tag = f"ntbench-{uuid.uuid4().hex[:8]}"
    env = {**env, "NT_BENCH_MODE": mode, "NT_BROKER_NAMESPACE": tag, "NT_CACHE_PREFIX": tag, "NT_LOG_LEVEL": "warning",
           "NT_WORKER_METRICS": "0"}
    os.environ.update(env)
    producer = subprocess.run(
        [sys.executable, "-c", PRODUCER, mode, str(jobs)], env={**os.environ, **env}, cwd=ROOT,
        capture_output=True, text=True, check=True,
    )
    enqueue_rate = float(producer.stdout.split()[-1])
    worker = subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "bench.jobs_app", "--processes", str(processes), "--threads", str(threads),
         "--queues", "bench", "--skip-logging"], env={**os.environ, **env}, cwd=ROOT,
    )
    try:
        drained = subprocess.run([sys.executable, "-c", WATCHER, str(jobs), str(processes)], env={**os.environ, **env},
                                 cwd=ROOT, capture_output=True, text=True, check=True, timeout=600)
    finally:
        worker.terminate()
        worker.wait(60)
        subprocess.run([sys.executable, "-c", CLEANUP, tag], env={**os.environ, **env}, cwd=ROOT, check=False)
    return enqueue_rate, float(drained.stdout.split()[-1])


PRODUCER = """
import sys, time
sys.argv, mode, jobs = sys.argv[:1], sys.argv[1], int(sys.argv[2])
import bench.jobs_app as app
from django.db import transaction
start = time.perf_counter()
if mode == "raw":
    for n in range(jobs):
        app.noop.send(n)
else:
    from apps.jobs.enqueue import enqueue
    for first in range(0, jobs, 500):
        with transaction.atomic():
            for n in range(first, min(jobs, first + 500)):
                enqueue("noop", n)
print(jobs / (time.perf_counter() - start))
"""

WATCHER = """
import sys, time
jobs, processes = int(sys.argv[1]), int(sys.argv[2])
import bench.jobs_app as app
client = app.broker.client
ns = app.broker.namespace
# the clock starts once every worker process of this run (its own namespace) has reported in
while client.zcard(f"{ns}:__heartbeats__") < processes:
    time.sleep(0.005)
start = time.perf_counter()
while client.hlen(f"{ns}:bench.msgs"):
    time.sleep(0.005)
rate = jobs / (time.perf_counter() - start)
if app.MODE == "ledger":  # every message acked: every row must say succeeded
    from apps.jobs.models import Job
    unfinished = Job.objects.exclude(status="succeeded").count()
    assert not unfinished, f"{unfinished} ledger rows not succeeded after the drain"
print(rate)
"""


CLEANUP = """
import sys
tag = sys.argv[1]
import bench.jobs_app as app
client = app.broker.client
keys = list(client.scan_iter(f"{tag}:*", count=1000))
for first in range(0, len(keys), 1000):
    client.delete(*keys[first:first + 1000])
"""


def main():
    parser = argparse.ArgumentParser(description="raw Dramatiq vs the job ledger")
    parser.add_argument("--jobs", type=int, default=20000)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each side, alternating (default 3)")
    args = parser.parse_args()
    tmp = scratch_dir("nt-bench-jobs-")
    env, drop = throwaway_database(tmp)
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], env={**os.environ, **env}, cwd=ROOT, check=True)
        results = {"raw": [], "ledger": []}
        for round_ in range(args.rounds):
            for mode in ("raw", "ledger") if round_ % 2 == 0 else ("ledger", "raw"):
                results[mode].append(run_mode(mode, args.jobs, args.processes, args.threads, env))
                print(f"  round {round_ + 1} {mode:6}: {results[mode][-1][1]:8.0f} jobs/s", flush=True)
    finally:
        if not os.environ.get("REDIS_URL"):
            subprocess.run([sys.executable, "-c", f"from newstunneler import embedded_redis as e; e.stop({tmp!r})"],
                           cwd=ROOT, check=False)
        drop()
    database = "postgresql" if "DATABASE_URL" in env else "sqlite"
    redis = "external" if os.environ.get("REDIS_URL") else "embedded"
    print(f"{args.jobs} no-op jobs, {args.processes} processes x {args.threads} threads, {database}, {redis} Redis")
    best = {mode: (max(r[0] for r in rows), max(r[1] for r in rows)) for mode, rows in results.items()}
    print(f"raw Dramatiq:   enqueue {best['raw'][0]:8.0f}/s   processed {best['raw'][1]:8.0f} jobs/s  (best of {args.rounds})")
    print(f"with ledger:    enqueue {best['ledger'][0]:8.0f}/s   processed {best['ledger'][1]:8.0f} jobs/s")
    print(f"ratio ledger / raw (processing): {best['ledger'][1] / best['raw'][1]:.2f}  (goal >= 0.8)")


if __name__ == "__main__":
    main()
