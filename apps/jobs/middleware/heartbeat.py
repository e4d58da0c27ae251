"""Process heartbeats. Workers and schedulers say they are alive every few seconds in the shared
cache (cheap liveness for `manage.py healthcheck`); workers also keep a WorkerHeartbeat row with the
jobs they are running, which the reconciler and the admin read."""

import os
import socket
import threading
import time
from datetime import datetime

import dramatiq
import structlog
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

logger = structlog.get_logger(__name__)

INTERVAL = 10
TTL = 3 * INTERVAL


def worker_name() -> str:
    """host:pid of this process (after a fork the pid differs from import time)."""
    return f"{socket.gethostname()}:{os.getpid()}"


# --- Liveness in the shared cache ----------------------------------------------------------------


def _key(kind: str, host: str, pid: int | str) -> str:
    return f"heartbeat:{kind}:{host}:{pid}"


def beat(kind: str, **info) -> None:
    host, pid = socket.gethostname(), os.getpid()
    cache.set(_key(kind, host, pid), {"host": host, "pid": pid, "at": time.time(), **info}, timeout=TTL)


def forget(kind: str) -> None:
    cache.delete(_key(kind, socket.gethostname(), os.getpid()))


def alive(kind: str, host: str | None = None, max_age: float = TTL) -> list[dict]:
    """Heartbeats of `kind` (from `host`, or any) younger than max_age seconds."""
    beats = cache.get_many(cache.keys(_key(kind, host or "*", "*"))).values()
    now = time.time()
    return [b for b in beats if now - b["at"] <= max_age]


class Beater:
    """A daemon thread that beats every INTERVAL seconds until stopped."""

    def __init__(self, kind: str, interval: float = INTERVAL, on_beat=None, **info):
        self.kind, self.interval, self.info, self.on_beat = kind, interval, info, on_beat
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{kind}-heartbeat", daemon=True)

    def start(self) -> "Beater":
        self._beat()  # alive from the moment start() returns
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        forget(self.kind)

    def _beat(self) -> None:
        try:
            beat(self.kind, **self.info)
            if self.on_beat:
                self.on_beat()
        except Exception:  # a cache or database outage must not kill the process it reports on
            logger.warning("heartbeat_failed", kind=self.kind, exc_info=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._beat()


# --- The jobs this worker process is running -----------------------------------------------------

_running: dict[str, datetime] = {}  # job id -> start time
_running_lock = threading.Lock()


def job_started(job_id: str, at: datetime) -> None:
    with _running_lock:
        _running[job_id] = at


def job_ended(job_id: str) -> datetime | None:
    """Forget a job; returns when it started (None if this process did not start it)."""
    with _running_lock:
        return _running.pop(job_id, None)


def running_jobs() -> list[str]:
    with _running_lock:
        return sorted(_running)


def mark_long_running(older_than: float = 1.0) -> int:
    """Write "running" for the jobs this process has been running for more than `older_than` seconds
    (short jobs go straight from queued to their end, in one batched write)."""
    from apps.jobs.models import Job, JobStatus

    now = timezone.now()
    with _running_lock:
        long_running = {job_id: started for job_id, started in _running.items()
                        if (now - started).total_seconds() > older_than}
    for job_id, started in long_running.items():
        Job.objects.filter(pk=job_id, status__in=[JobStatus.QUEUED, JobStatus.RETRYING]).update(
            status=JobStatus.RUNNING, started_at=started, worker=worker_name())
    return len(long_running)


# --- The worker's row ----------------------------------------------------------------------------


class WorkerHeartbeat(dramatiq.Middleware):
    """Each worker process records a heartbeat (cache key and database row: host, pid, queues, current
    jobs, last seen) every INTERVAL seconds; the reconciler and health checks read them."""

    def __init__(self):
        self.beater = None

    def after_worker_boot(self, broker, worker):
        queues = sorted(worker.consumer_whitelist or broker.get_declared_queues())
        self.beater = Beater("worker", queues=queues, on_beat=lambda: record_heartbeat(queues)).start()

    def before_worker_shutdown(self, broker, worker):
        if self.beater is not None:
            self.beater.stop()
            self.beater = None
            forget_heartbeat()


def record_heartbeat(queues: list[str]) -> None:
    from apps.jobs.models import WorkerHeartbeat as HeartbeatRow

    host, pid = worker_name().rsplit(":", 1)
    try:
        HeartbeatRow.objects.update_or_create(
            host=host, pid=int(pid), defaults={"queues": queues, "current_jobs": running_jobs(), "last_seen": timezone.now()}
        )
        mark_long_running()
    finally:
        connection.close()  # the beat thread's own connection


def forget_heartbeat() -> None:
    from apps.jobs.models import WorkerHeartbeat as HeartbeatRow

    host, pid = worker_name().rsplit(":", 1)
    try:
        HeartbeatRow.objects.filter(host=host, pid=int(pid)).delete()
    finally:
        connection.close()
