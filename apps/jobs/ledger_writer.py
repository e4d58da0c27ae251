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


class LedgerWriter:
    def __init__(self):
        self._pending: list[Finished] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def finish(self, row: Finished, timeout: float = 30.0) -> None:
        """Queue the row and wait until it is committed (raises what the write raised)."""
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
                self._thread.start()
            self._pending.append(row)
            self._cond.notify()
        if not row.done.wait(timeout):
            raise TimeoutError(f"ledger write of job {row.job_id} took longer than {timeout}s")
        if row.error is not None:
            raise row.error

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                batch, self._pending = self._pending, []
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


class StatusReader:
    def __init__(self):
        self._pending: list[StatusQuery] = []
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def status(self, job_id: str, timeout: float = 30.0) -> str | None:
        query = StatusQuery(job_id)
        with self._cond:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ledger-reader", daemon=True)
                self._thread.start()
            self._pending.append(query)
            self._cond.notify()
        if not query.done.wait(timeout):
            raise TimeoutError(f"ledger read of job {job_id} took longer than {timeout}s")
        if query.error is not None:
            raise query.error
        return query.status

    def _run(self) -> None:
        from apps.jobs.models import Job

        while True:
            with self._cond:
                while not self._pending:
                    self._cond.wait()
                batch, self._pending = self._pending, []
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
