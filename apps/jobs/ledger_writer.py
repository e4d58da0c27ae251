"""Batching for the ledger's hot path. Worker threads hand their "succeeded" rows to one writer
thread per process, which writes everything pending in one transaction and then releases them; and
they ask one reader thread for their job's status, which answers all pending questions with one
SELECT.

A message is never acked before its row is committed (so a killed worker never leaves a finished job
looking unfinished), but the threads of a process share one commit (and one read) instead of paying one
each. With the project's broker (apps/jobs/broker.py) the worker thread does not even wait: the writer
acks the message itself once the row is committed; with any other broker the thread waits, then acks."""

import threading
from dataclasses import dataclass, field

import structlog
from django.db import connection, transaction

logger = structlog.get_logger(__name__)


@dataclass
class Finished:
    job_id: str
    started_at: object
    finished_at: object
    duration_ms: float | None
    attempts: int
    worker: str
    message: object = None  # the Dramatiq message: a row is made from it if the job had none
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None
    ack: tuple | None = None  # (consumer, message): the deferred ack, made by the writer after the commit
    result: str = ""  # the actor's summary of its run
    log: str = ""  # the run's captured log lines


class _Batcher:
    """One daemon thread per process handling whatever is pending in one go."""

    name = "ledger-batcher"

    def __init__(self):
        self._pending: list = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._busy = False

    def _submit(self, item) -> None:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._pending.append(item)
            self._cond.notify()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted so far has been handled; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._pending and not self._busy, timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread (closing its database connection) once nothing is pending."""
        with self._cond:
            thread, self._stopping = self._thread, True
            self._cond.notify()
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        try:
            while True:
                with self._cond:
                    while not self._pending and not self._stopping:
                        self._cond.wait()
                    if not self._pending:
                        return
                    batch, self._pending, self._busy = self._pending, [], True
                try:
                    self._handle(batch)
                finally:
                    with self._cond:
                        self._busy = False
                        self._cond.notify_all()
        finally:
            connection.close()

    def _handle(self, batch) -> None:
        raise NotImplementedError


class LedgerWriter(_Batcher):
    name = "ledger-writer"

    def __init__(self):
        super().__init__()
        self._awaiting: dict[str, Finished] = {}  # job id -> row whose message's ack may be deferred
        self._acks = threading.Lock()

    def finish_later(self, row: Finished) -> None:
        """Queue the row without waiting: the message's ack, handed over by ack_after_commit(), runs
        once the row is committed."""
        with self._acks:
            self._awaiting[row.job_id] = row
        self._submit(row)

    def ack_after_commit(self, job_id: str, consumer, message) -> bool:
        """Ack `message` once the job's row is committed: now if it already is, else on the writer thread
        (with the rest of its batch: consumer.ack_batch(messages)). False if the job has no row pending
        here (the caller acks as usual)."""
        with self._acks:
            row = self._awaiting.pop(job_id, None)
            if row is None:
                return False
            if not row.done.is_set():
                row.ack = (consumer, message)
                return True
        consumer.ack_batch([message])
        return True

    def forget(self, job_id: str) -> None:
        with self._acks:
            self._awaiting.pop(job_id, None)

    def finish(self, row: Finished, timeout: float = 30.0) -> None:
        """Queue the row and wait until it is committed (raises what the write raised)."""
        self._submit(row)
        if not row.done.wait(timeout):
            raise TimeoutError(f"ledger write of job {row.job_id} took longer than {timeout}s")
        if row.error is not None:
            raise row.error

    def _handle(self, batch: list[Finished]) -> None:
        error = None
        try:
            self._write(batch)
        except Exception as exc:  # handed to every waiting thread; the connection is renewed
            logger.exception("ledger_write_failed", jobs=len(batch))
            error = exc
            connection.close()
        acks: dict[object, list] = {}
        with self._acks:
            for row in batch:
                row.error = error
                row.done.set()
                if row.ack is not None:
                    consumer, message = row.ack
                    acks.setdefault(consumer, []).append(message)
                    row.ack = None
        for consumer, messages in acks.items():
            try:
                consumer.ack_batch(messages)
            except Exception:  # Redis gone: the messages stay unacked and are delivered again (then skipped)
                logger.exception("ledger_deferred_ack_failed", jobs=[message.message_id for message in messages])

    @staticmethod
    def _write(batch: list[Finished]) -> None:
        """One statement for the batch, which is also the claim: only a queued, retrying or running row
        becomes succeeded. A job without a row (sent around the ledger) gets one; a job another copy
        already finished, or staff discarded meanwhile, keeps its state (logged)."""
        from apps.jobs.models import Job, JobStatus, message_fields

        with transaction.atomic():
            updated = _update_succeeded(batch)
            missed = [row for row in batch if row.job_id not in updated]
            if not missed:
                return
            existing = dict(Job.objects.filter(pk__in=[row.job_id for row in missed]).values_list("id", "status"))
            Job.objects.bulk_create([Job(
                id=row.job_id, **message_fields(row.message), enqueued_at=row.started_at, status=JobStatus.SUCCEEDED,
                started_at=row.started_at, finished_at=row.finished_at, duration_ms=row.duration_ms,
                attempts=row.attempts, worker=row.worker, result=row.result, log=row.log,
            ) for row in missed if row.job_id not in existing and row.message is not None], ignore_conflicts=True)
        for row in missed:
            if row.job_id in existing:
                logger.warning("job_finished_again", job_id=row.job_id, status=existing[row.job_id],
                               note="another copy of this job ended it first, or it was discarded; its state stays")


# The statuses are parameters: JobStatus.SUCCEEDED, then the models' LIVE_STATUSES.
_UPDATE_PG = """
UPDATE {table} AS j SET status = %s, started_at = v.started_at, finished_at = v.finished_at,
    duration_ms = v.duration_ms, attempts = v.attempts, worker = v.worker, next_retry_at = NULL,
    updated_at = v.finished_at, result = v.result, log = v.log
FROM unnest(%s::varchar[], %s::timestamptz[], %s::timestamptz[], %s::float8[], %s::int[], %s::varchar[],
            %s::varchar[], %s::text[])
    AS v(id, started_at, finished_at, duration_ms, attempts, worker, result, log)
WHERE j.id = v.id AND j.status = ANY(%s)
RETURNING j.id
"""
_UPDATE_ONE = """
UPDATE {table} SET status = %s, started_at = %s, finished_at = %s, duration_ms = %s, attempts = %s,
    worker = %s, next_retry_at = NULL, updated_at = %s, result = %s, log = %s
WHERE id = %s AND status IN ({live})
"""


def _update_succeeded(batch: list[Finished]) -> set[str]:
    """Mark the batch's live rows succeeded; returns the ids it changed. PostgreSQL: one UPDATE ... FROM
    unnest(...) for the whole batch. SQLite (in process, no round trip): one UPDATE per row."""
    from apps.jobs.models import LIVE_STATUSES, Job, JobStatus

    ops = connection.ops
    table = ops.quote_name(Job._meta.db_table)
    live = [str(status) for status in LIVE_STATUSES]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_UPDATE_PG.format(table=table), [
                JobStatus.SUCCEEDED.value, [row.job_id for row in batch], [row.started_at for row in batch],
                [row.finished_at for row in batch], [row.duration_ms for row in batch], [row.attempts for row in batch],
                [row.worker for row in batch], [row.result for row in batch], [row.log for row in batch], live])
            return {job_id for (job_id,) in cursor.fetchall()}
        sql = _UPDATE_ONE.format(table=table, live=", ".join(["%s"] * len(live)))
        updated = set()
        for row in batch:
            cursor.execute(sql, [
                JobStatus.SUCCEEDED.value, ops.adapt_datetimefield_value(row.started_at),
                ops.adapt_datetimefield_value(row.finished_at), row.duration_ms, row.attempts, row.worker,
                ops.adapt_datetimefield_value(row.finished_at), row.result, row.log, row.job_id, *live])
            if cursor.rowcount:
                updated.add(row.job_id)
        return updated


writer = LedgerWriter()


@dataclass
class StatusQuery:
    job_id: str
    done: threading.Event = field(default_factory=threading.Event)
    status: str | None = None
    error: BaseException | None = None


class StatusReader(_Batcher):
    name = "ledger-reader"

    def status(self, job_id: str, timeout: float = 30.0) -> str | None:
        query = StatusQuery(job_id)
        self._submit(query)
        if not query.done.wait(timeout):
            raise TimeoutError(f"ledger read of job {job_id} took longer than {timeout}s")
        if query.error is not None:
            raise query.error
        return query.status

    def _handle(self, batch: list[StatusQuery]) -> None:
        from apps.jobs.models import Job

        error, found = None, {}
        try:
            found = dict(Job.objects.filter(pk__in={q.job_id for q in batch}).values_list("id", "status"))
        except Exception as exc:
            logger.exception("ledger_read_failed", jobs=len(batch))
            error = exc
            connection.close()
        for query in batch:
            query.status, query.error = found.get(query.job_id), error
            query.done.set()


reader = StatusReader()
