"""The job ledger's middleware: moves each job's row through its states and owns the retry policy."""

import logging
import random
import threading
from datetime import datetime, timedelta

import dramatiq
import structlog
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from dramatiq.middleware import SkipMessage
from prometheus_client import Counter

from apps.flags import is_enabled
from apps.jobs import context
from apps.jobs.delivery import first_delivery
from apps.jobs.errors import ErrorSummary, PermanentError, error_summary
from apps.jobs.ledger_writer import Finished, reader, writer
from apps.jobs.middleware.heartbeat import job_ended, job_started, worker_name
from apps.jobs.signals import job_dead
from newstunneler import telemetry

logger = structlog.get_logger(__name__)

NEVER_RETRY = (PermanentError, ValidationError)
# A redelivered message of a job that a live worker is running comes back after this long, until that
# worker finishes it or stops heartbeating (then this copy takes the job over).
OWNER_ALIVE_RECHECK_MS = 10_000
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


def backoff_ms(retries: int, min_backoff: int, max_backoff: int) -> int:
    """Exponential backoff with full jitter in the upper half: min x 2^retries, capped at max."""
    ceiling = min(max_backoff, min_backoff * (2 ** min(retries, 30)))
    return int(random.uniform(ceiling / 2, ceiling)) if ceiling > min_backoff else min_backoff


def _attempt(message) -> int:
    return message.options.get("retries", 0) + 1


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

    def before_consumer_thread_shutdown(self, broker, thread):
        """The worker threads have stopped: commit (and ack) the rows still pending while the consumers
        can still ack."""
        writer.flush()

    # --- before --------------------------------------------------------------------------------

    def before_process_message(self, broker, message):
        """A message's first delivery runs at once: nothing is read, and the final write is the claim
        (it only moves a queued, retrying or running row). A redelivery (a retry, a dead worker's message
        given back, a copy re-sent by the reconciler) first reads the row: only a queued or retrying job
        runs here. First or not: apps/jobs/delivery.py (one Redis SET NX)."""
        from apps.jobs.models import JobStatus

        gate = broker.get_actor(message.actor_name).options.get("flag")
        if gate and not is_enabled(gate):
            self._record_if_missing(message)  # after_skip_message then marks it skipped
            raise SkipMessage(f"flag {gate} is off")
        now = timezone.now()
        if first_delivery(message.message_id):
            self._started(message, now)
            return
        status = reader.status(message.message_id)
        if status not in (JobStatus.QUEUED, JobStatus.RETRYING) and not self._claim_other(broker, message, now):
            message.options["nt_duplicate"] = True
            raise SkipMessage(f"job {message.message_id} is not runnable here")
        self._started(message, now)

    @staticmethod
    def _started(message, now: datetime) -> None:
        job_started(message.message_id, now)
        context.start(job_id=message.message_id, actor=message.actor_name, attempt=_attempt(message),
                      request_id=message.options.get("nt_request_id", ""), log_chars=settings.JOBS_LOG_CHARS)

    @staticmethod
    def _record_if_missing(message, **fields) -> bool:
        """Give a message sent around the ledger its row. Returns True if it had none."""
        from apps.jobs.models import Job, message_fields

        _, created = Job.objects.get_or_create(id=message.message_id, defaults={
            **message_fields(message), "enqueued_at": timezone.now(), **fields})
        return created

    def _claim_other(self, broker, message, now: datetime) -> bool:
        """No queued row: a message sent around the ledger (record it), or a redelivery of a job whose
        worker died (take it over). A job that finished or was discarded: no. A job a live worker is
        running: not now; this copy comes back later, in case that worker dies before finishing it."""
        from apps.jobs.models import Job, JobStatus
        from apps.jobs.models import WorkerHeartbeat as HeartbeatRow

        job = Job.objects.filter(pk=message.message_id).first()
        if job is None:
            return self._record_if_missing(message, status=JobStatus.RUNNING, attempts=_attempt(message),
                                           started_at=now, worker=worker_name())
        if job.status != JobStatus.RUNNING:
            return False
        host, _, pid = job.worker.rpartition(":")
        owner = HeartbeatRow.objects.filter(host=host, pid=int(pid) if pid.isdigit() else 0).first()
        if owner is not None and owner.is_alive(now) and job.worker != worker_name():
            broker.enqueue(message.copy(), delay=OWNER_ALIVE_RECHECK_MS)
            return False
        return bool(Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING, worker=job.worker).update(
            started_at=now, attempts=_attempt(message), worker=worker_name()))

    # --- after ---------------------------------------------------------------------------------

    def after_process_message(self, broker, message, *, result=None, exception=None):
        started, now = job_ended(message.message_id), timezone.now()
        log = context.finish(logging.NOTSET if exception is not None else logging.WARNING)
        if exception is not None:
            telemetry.error("jobs", exception)
        if exception is None:
            self._succeeded(broker, message, started, now, context.summary(result), log)
            return
        actor = broker.get_actor(message.actor_name)
        error = error_summary(exception)
        if self._gives_up(actor, message, exception):
            self._dead(message, started, now, error, log)
        else:
            self._retry(broker, actor, message, started, now, error, log)

    def _succeeded(self, broker, message, started: datetime | None, now: datetime, result: str = "",
                   log: str = "") -> None:
        row = Finished(
            job_id=message.message_id, started_at=started or now, finished_at=now,
            duration_ms=(now - started).total_seconds() * 1000 if started else None,
            attempts=_attempt(message), worker=worker_name(), message=message, result=result, log=log,
        )
        if getattr(broker, "defers_acks", False):
            writer.finish_later(row)  # the broker's consumer hands its ack to the writer
        else:
            writer.finish(row)
        outcome(message.actor_name, "succeeded")

    @staticmethod
    def _gives_up(actor, message, exception: BaseException) -> bool:
        throws = actor.options.get("throws") or ()
        throws = tuple(throws) if isinstance(throws, (list, tuple)) else (throws,)
        max_retries = actor.options.get("max_retries", settings.JOBS_DEFAULT_MAX_RETRIES)
        return isinstance(exception, NEVER_RETRY + throws) or message.options.get("retries", 0) >= max_retries

    def _dead(self, message, started: datetime | None, now: datetime, error: ErrorSummary, log: str = "") -> None:
        from apps.jobs.models import Job, JobAttempt, JobStatus

        fields = dict(status=JobStatus.DEAD, started_at=started, finished_at=now, worker=worker_name(),
                      attempts=_attempt(message), duration_ms=(now - started).total_seconds() * 1000 if started else None,
                      log=log, **error.as_fields())
        if not Job.objects.filter(pk=message.message_id).update(**fields):
            self._record_if_missing(message, **fields)  # a message sent around the ledger
        self._attempt_row(message, JobAttempt.Outcome.DEAD, started, now, error, log)
        message.fail()
        outcome(message.actor_name, "dead")
        logger.warning("job_dead", job_id=message.message_id, actor=message.actor_name, attempts=_attempt(message),
                       error=str(error)[:300])
        job_dead.send(sender=type(self), job_id=message.message_id, actor=message.actor_name,
                      queue=message.queue_name, error=str(error)[:1000], attempts=_attempt(message))

    @staticmethod
    def _attempt_row(message, outcome_: str, started: datetime | None, now: datetime, error: ErrorSummary,
                     log: str) -> None:
        from apps.jobs.models import JobAttempt

        JobAttempt.objects.create(
            job_id=message.message_id, number=_attempt(message), outcome=outcome_, worker=worker_name(),
            started_at=started, finished_at=now, duration_ms=(now - started).total_seconds() * 1000 if started else None,
            log=log, **error.as_fields())

    def _retry(self, broker, actor, message, started: datetime | None, now: datetime, error: ErrorSummary,
               log: str = "") -> None:
        from apps.jobs.models import Job, JobAttempt, JobStatus

        self._attempt_row(message, JobAttempt.Outcome.RETRIED, started, now, error, log)  # before retries moves on
        retries = message.options.get("retries", 0)
        delay = backoff_ms(retries, actor.options.get("min_backoff", settings.JOBS_MIN_BACKOFF_MS),
                           actor.options.get("max_backoff", settings.JOBS_MAX_BACKOFF_MS))
        message.options["retries"] = retries + 1
        fields = dict(status=JobStatus.RETRYING, next_retry_at=now + timedelta(milliseconds=delay), started_at=started,
                      attempts=retries + 1, worker=worker_name(), **error.as_fields())
        if not Job.objects.filter(pk=message.message_id).update(log=log, **fields):
            self._record_if_missing(message, **fields)  # a message sent around the ledger
        broker.enqueue(message, delay=delay)
        outcome(message.actor_name, "retried")

    def after_skip_message(self, broker, message):
        from apps.jobs.models import Job, JobStatus

        job_ended(message.message_id)
        context.finish()
        if message.options.get("nt_duplicate"):
            return
        Job.objects.filter(pk=message.message_id).update(status=JobStatus.SKIPPED, finished_at=timezone.now())
        outcome(message.actor_name, "skipped")
