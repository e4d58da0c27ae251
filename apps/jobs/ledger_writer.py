"""Batching for the ledger's hot path. Worker threads hand their "succeeded" rows to one writer
thread per process, which writes everything pending in one transaction and then releases them; and
they ask one reader thread for their job's status, which answers all pending questions with one
SELECT.

A thread still waits for its row to be committed before its message is acked (so a killed worker
never leaves a finished job looking unfinished), but the threads of a process share one commit (and
one read) instead of paying one each."""

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
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class _Batcher:
    """One daemon thread per process handling whatever is pending in one go."""

    name = "ledger-batcher"

    def __init__(self):
        self._pending: list = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False

    def _submit(self, item) -> None:
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            self._pending.append(item)
            self._cond.notify()

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
                    batch, self._pending = self._pending, []
                self._handle(batch)
        finally:
            connection.close()

    def _handle(self, batch) -> None:
        raise NotImplementedError


class LedgerWriter(_Batcher):
    name = "ledger-writer"

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
        for row in batch:
            row.error = error
            row.done.set()

    @staticmethod
    def _write(batch: list[Finished]) -> None:
        from apps.jobs.models import Job, JobStatus

        ops = connection.ops
        table = ops.quote_name(Job._meta.db_table)
        sql = (
            f"UPDATE {table} SET status = %s, started_at = %s, finished_at = %s, duration_ms = %s, attempts = %s, "
            "worker = %s, next_retry_at = NULL, updated_at = %s WHERE id = %s"
        )
        params = [
            (JobStatus.SUCCEEDED, ops.adapt_datetimefield_value(row.started_at),
             ops.adapt_datetimefield_value(row.finished_at), row.duration_ms, row.attempts, row.worker,
             ops.adapt_datetimefield_value(row.finished_at), row.job_id)
            for row in batch
        ]
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.executemany(sql, params)


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
