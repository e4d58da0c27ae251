"""A worker process killed with SIGKILL while it holds fetched messages: the scheduler's recovery
gives them back and they run again, within a bounded time. Real processes, the real broker of this
mode (embedded Redis, or REDIS_URL), the real test database."""

import os
import signal
import subprocess
import sys
import time
import uuid

import dramatiq
import pytest
from django.conf import settings
from django.db import connection

from apps.jobs import scheduler
from apps.jobs.enqueue import enqueue
from apps.jobs.models import Job
from tests.processes import ROOT, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

HEARTBEAT_MS = 2000
BOUND = 60  # seconds from the kill until every job has run to its end


def killable_sleep(n: int, seconds: float) -> None:
    """This process only sends it; tests/jobs/killable.py runs it in the worker processes."""


def start_worker(env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dramatiq", "tests.jobs.killable", "--processes", "1", "--threads", "2",
         "--queues", "killable", "--skip-logging"],
        env=env, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_jobs_held_by_a_killed_worker_run_again(redis_broker_factory, tmp_path, monkeypatch):
    namespace = f"nt-test-kill-{uuid.uuid4().hex[:6]}"
    broker = redis_broker_factory(namespace=namespace, heartbeat_timeout=HEARTBEAT_MS)
    broker.declare(dramatiq.actor(killable_sleep, queue_name="killable", max_retries=3, broker=broker))
    monkeypatch.setattr(scheduler, "RECONCILE_LEASE", f"{namespace}:lease")
    log = tmp_path / "runs.log"
    log.touch()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.worker_settings", "NT_VAR_DIR": str(settings.VAR_DIR),
           "NT_TEST_DATABASE_NAME": str(connection.settings_dict["NAME"]), "NT_TEST_BROKER_NAMESPACE": namespace,
           "NT_TEST_RUN_LOG": str(log), "NT_BROKER_HEARTBEAT_TIMEOUT": str(HEARTBEAT_MS),
           "NT_JOBS_WORKER_DEAD_AFTER": "10", "NT_WORKER_METRICS": "0", "NT_LOG_LEVEL": "warning"}
    ids = [enqueue("killable_sleep", n, 0.5) for n in range(12)]
    acks = f"{namespace}:__acks__.*.killable"

    first = start_worker(env)
    try:
        # It has fetched messages (2 threads, prefetch 4) and is running some of them.
        wait_for(lambda: "start" in log.read_text() and any(broker.client.scan_iter(acks)), 60, "the worker to fetch")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
    killed_at = time.monotonic()
    held = sum(broker.client.scard(key) for key in broker.client.scan_iter(acks))
    assert held > 0, "the killed worker held no messages: nothing was tested"

    second = start_worker(env)
    try:
        def all_ended():
            scheduler.recover_jobs()  # what every scheduler tick does
            return Job.objects.filter(pk__in=ids, status="succeeded").count() == len(ids)

        wait_for(all_ended, BOUND, f"all {len(ids)} jobs to succeed after the kill ({held} held by the dead worker)")
    finally:
        os.killpg(second.pid, signal.SIGKILL)
        second.wait()
    recovered_in = time.monotonic() - killed_at
    done = {int(line.split()[1]) for line in log.read_text().splitlines() if line.startswith("done")}
    assert done == set(range(12)), f"never finished: {sorted(set(range(12)) - done)}"
    assert recovered_in < BOUND
