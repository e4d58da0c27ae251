"""Dramatiq middleware of the jobs app: the ledger (state transitions and the retry policy) and the
worker heartbeat.

django_dramatiq builds the broker while Django's apps are still loading, so models are imported
inside the methods, never at module level."""

import os
import random
import socket
import threading
import time
import traceback
from datetime import timedelta

import dramatiq
import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import close_old_connections, connection, connections
from django.utils import timezone
from dramatiq.middleware import SkipMessage
from prometheus_client import Counter

from apps.jobs.errors import PermanentError
from apps.jobs.signals import job_dead
from apps.jobs.heartbeat import Beater
from apps.jobs.ledger_writer import Finished, reader, writer

logger = structlog.get_logger(__name__)

NEVER_RETRY = (PermanentError, ValidationError)
_outcomes: Counter | None = None
_outcomes_lock = threading.Lock()


def outcome(actor: str, name: str) -> None:
    """Count a job's end. The counter is created on first use, i.e. after Dramatiq's Prometheus
    middleware has pointed prometheus_client at its multiprocess directory in worker processes, so
    the workers' exposition server (NT_WORKER_METRICS_PORT) exports it."""
    global _outcomes
    with _outcomes_lock:
        if _outcomes is None:
            _outcomes = Counter(
                "newstunneler_job_outcomes_total", "Jobs finished, by actor and outcome", ["actor", "outcome"])
    _outcomes.labels(actor, name).inc()

_running: dict[str, object] = {}  # job id -> start time, for the jobs this process is running
_running_lock = threading.Lock()


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"  # after a fork the pid differs from import time


def backoff_ms(retries: int, min_backoff: int, max_backoff: int) -> int:
    """Exponential backoff with full jitter in the upper half: min x 2^retries, capped at max."""
    ceiling = min(max_backoff, min_backoff * (2 ** min(retries, 30)))
    return int(random.uniform(ceiling / 2, ceiling)) if ceiling > min_backoff else min_backoff


def _short(exception: BaseException) -> tuple[str, str, str]:
    cls = type(exception)
    name = cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    text = "".join(traceback.format_exception(exception))
    return name[:200], str(exception)[:5000], text[-50_000:]


class JobLedger(dramatiq.Middleware):
    """Moves each job's row queued -> running -> succeeded | retrying | dead | skipped, and owns the
    retry policy (it replaces Dramatiq's Retries middleware, whose default keeps a job alive ~a month).

    Actor options: max_retries (default 3), min_backoff / max_backoff in ms (15 s .. 10 min), throws
    (exception classes that never retry; PermanentError and ValidationError never do), flag (a
    feature flag: while it is off the job ends as skipped)."""

    actor_options = {"max_retries", "min_backoff", "max_backoff", "throws", "flag"}

    def after_worker_shutdown(self, broker, worker):
        reader.stop()
        writer.stop()

    def before_process_message(self, broker, message):
        """Claim the job with one read (no write): only a queued or retrying job runs here. Its
        "running" state is written later by the heartbeat if it runs long, and its end by the
        group-committing writer."""
        from apps.flags import is_enabled
        from apps.jobs.models import JobStatus

        gate = broker.get_actor(message.actor_name).options.get("flag")
        if gate and not is_enabled(gate):
            self._record_if_missing(message)  # after_skip_message then marks it skipped
            raise SkipMessage(f"flag {gate} is off")
        attempts = message.options.get("retries", 0) + 1
        now = timezone.now()
        status = reader.status(message.message_id)
        if status not in (JobStatus.QUEUED, JobStatus.RETRYING) and not self._claim_other(message, attempts, now):
            message.options["nt_duplicate"] = True
            raise SkipMessage(f"job {message.message_id} is not runnable here")
        with _running_lock:
            _running[message.message_id] = now

    @staticmethod
    def _record_if_missing(message, **fields) -> bool:
        """Give a message sent around the ledger its row. Returns True if it had none."""
        from apps.jobs.models import Job

        now = timezone.now()
        _, created = Job.objects.get_or_create(id=message.message_id, defaults={
            "actor": message.actor_name, "queue": message.queue_name.removesuffix(".DQ"), "args": list(message.args),
            "kwargs": message.kwargs, "enqueued_at": now, **fields})
        return created

    def _claim_other(self, message, attempts, now) -> bool:
        """No queued row: a message sent around the ledger (record it), or a redelivery of a job whose
        worker died (take it over). A job that finished, was discarded, or runs on a live worker: no."""
        from apps.jobs.models import Job, JobStatus
        from apps.jobs.models import WorkerHeartbeat as HeartbeatRow

        job = Job.objects.filter(pk=message.message_id).first()
        if job is None:
            return self._record_if_missing(message, status=JobStatus.RUNNING, attempts=attempts, started_at=now,
                                           worker=worker_name())
        if job.status != JobStatus.RUNNING:
            return False
        host, _, pid = job.worker.rpartition(":")
        owner = HeartbeatRow.objects.filter(host=host, pid=int(pid) if pid.isdigit() else 0).first()
        if owner is not None and owner.is_alive(now) and job.worker != worker_name():
            return False
        return bool(Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, worker=job.worker).update(
            started_at=now, attempts=attempts, worker=worker_name()))

    def after_process_message(self, broker, message, *, result=None, exception=None):
        from apps.jobs.models import Job, JobStatus

        with _running_lock:
            started = _running.pop(message.message_id, None)
        now = timezone.now()
        if exception is None:
            writer.finish(Finished(
                job_id=message.message_id, started_at=started or now, finished_at=now,
                duration_ms=(now - started).total_seconds() * 1000 if started else None,
                attempts=message.options.get("retries", 0) + 1, worker=worker_name(),
            ))
            outcome(message.actor_name, "succeeded")
            return
        actor = broker.get_actor(message.actor_name)
        retries = message.options.get("retries", 0)
        max_retries = actor.options.get("max_retries", settings.JOBS_DEFAULT_MAX_RETRIES)
        throws = actor.options.get("throws") or ()
        throws = tuple(throws) if isinstance(throws, (list, tuple)) else (throws,)
        error_class, error_message, text = _short(exception)
        errors = {"error_class": error_class, "error_message": error_message, "traceback": text}
        if isinstance(exception, NEVER_RETRY + throws) or retries >= max_retries:
            self._finish(message, now, started, status=JobStatus.DEAD, **errors)
            message.fail()
            outcome(message.actor_name, "dead")
            logger.warning("job_dead", job_id=message.message_id, actor=message.actor_name, attempts=retries + 1,
                           error=f"{error_class}: {error_message[:300]}")
            job_dead.send(sender=type(self), job_id=message.message_id, actor=message.actor_name,
                          queue=message.queue_name, error=f"{error_class}: {error_message[:1000]}",
                          attempts=retries + 1)
            return
        delay = backoff_ms(retries, actor.options.get("min_backoff", settings.JOBS_MIN_BACKOFF_MS),
                           actor.options.get("max_backoff", settings.JOBS_MAX_BACKOFF_MS))
        message.options["retries"] = retries + 1
        Job.objects.filter(pk=message.message_id).update(
            status=JobStatus.RETRYING, next_retry_at=now + timedelta(milliseconds=delay), started_at=started,
            attempts=retries + 1, worker=worker_name(), **errors)
        broker.enqueue(message, delay=delay)
        outcome(message.actor_name, "retried")

    def _finish(self, message, now, started, *, status, **fields):
        from apps.jobs.models import Job

        duration = (now - started).total_seconds() * 1000 if started else None
        Job.objects.filter(pk=message.message_id).update(
            status=status, started_at=started, finished_at=now, duration_ms=duration, worker=worker_name(),
            attempts=message.options.get("retries", 0) + 1, **fields)

    def after_skip_message(self, broker, message):
        from apps.jobs.models import Job, JobStatus

        with _running_lock:
            _running.pop(message.message_id, None)
        if message.options.get("nt_duplicate"):
            return
        Job.objects.filter(pk=message.message_id).update(status=JobStatus.SKIPPED, finished_at=timezone.now())
        outcome(message.actor_name, "skipped")


class DbConnections(dramatiq.Middleware):
    """Keeps worker threads' database connections healthy without a check per message (django_dramatiq's
    DbConnectionsMiddleware pings the database before and after every message): connections are
    checked at most every CHECK_EVERY seconds per thread, after any failed message, and closed when a
    thread stops."""

    CHECK_EVERY = 30.0

    def __init__(self):
        self._local = threading.local()

    def before_process_message(self, broker, message):
        now = time.monotonic()
        if now - getattr(self._local, "checked", 0.0) > self.CHECK_EVERY:
            close_old_connections()
            self._local.checked = now

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if exception is not None:
            close_old_connections()

    def _close(self, *args, **kwargs):
        connections.close_all()

    before_consumer_thread_shutdown = _close
    before_worker_thread_shutdown = _close
    before_worker_shutdown = _close


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


class WorkerHeartbeat(dramatiq.Middleware):
    """Each worker process records a heartbeat (cache key and database row: host, pid, queues, current
    jobs, last seen) every few seconds; the reconciler and health checks read them."""

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

