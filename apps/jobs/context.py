"""What a worker thread knows about the job it runs: its id, actor, attempt and request id, bound to
every log line (structlog context) and handed on to the jobs it enqueues (their parent and request id);
and the job's own log lines, captured for the ledger (at most NT_JOBS_LOG_CHARS per attempt).

Imports nothing of Django's models: the logging set-up loads JobLogHandler before the apps."""

import contextvars
import logging
import threading

import structlog

_local = threading.local()
_BOUND = ("job_id", "actor", "attempt", "request_id")


class _Capture:
    """A job's captured log lines, shared by the threads working for it (see carried)."""

    def __init__(self, limit: int):
        self.lines: list[tuple[int, str]] = []
        self.size, self.limit, self.cut = 0, limit, False
        self.lock = threading.Lock()

    def add(self, level: int, text: str) -> None:
        with self.lock:
            if self.cut:
                return
            if self.size + len(text) > self.limit:
                self.cut = True
                return
            self.lines.append((level, text))
            self.size += len(text) + 1


def start(*, job_id: str, actor: str, attempt: int, request_id: str, log_chars: int) -> None:
    """Bind the job to this thread (log lines, child jobs) and start capturing its log lines. What was
    bound before (a web request running a job inline) comes back at finish()."""
    bound = structlog.contextvars.get_contextvars()
    _local.saved = {key: bound[key] for key in _BOUND if key in bound}
    structlog.contextvars.bind_contextvars(job_id=job_id, actor=actor, attempt=attempt,
                                           request_id=request_id or f"job-{job_id[:12]}")
    _local.capture = _Capture(limit=log_chars)


def finish(min_level: int = logging.NOTSET) -> str:
    """Unbind the job; returns its captured lines at `min_level` or above ("" if none, or no job was bound).
    The ledger keeps every line of a failed attempt, and only warnings and errors of one that succeeded
    (a busy install runs hundreds of thousands of jobs a day: their routine lines belong to the logs)."""
    capture = getattr(_local, "capture", None)
    _local.capture = None
    lines, cut = (capture.lines, capture.cut) if capture else (None, False)
    structlog.contextvars.unbind_contextvars(*_BOUND)
    structlog.contextvars.bind_contextvars(**getattr(_local, "saved", {}))
    _local.saved = {}
    kept = [text for level, text in lines or () if level >= min_level]
    if not kept:
        return ""
    return "\n".join(kept) + ("\n… (cut: NT_JOBS_LOG_CHARS reached)" if cut else "")


def carried(function):
    """`function` wrapped to run in another thread as part of this thread's job: with its structlog
    context (the job id its log lines and child jobs carry) and its log capture (the ledger keeps the
    helper's lines with the job's)."""
    context, capture = contextvars.copy_context(), getattr(_local, "capture", None)

    def run(*args, **kwargs):
        _local.capture = capture
        try:
            return context.run(function, *args, **kwargs)
        finally:
            _local.capture = None

    return run


def current_job_id() -> str | None:
    return structlog.contextvars.get_contextvars().get("job_id")


class JobLogHandler(logging.Handler):
    """Keeps the formatted lines logged by the thread of a running job (and the threads it carried its
    context into), up to its limit."""

    def emit(self, record: logging.LogRecord) -> None:
        capture = getattr(_local, "capture", None)
        if capture is None or capture.cut:
            return
        try:
            text = self.format(record)
        except Exception:  # noqa: BLE001 - a line that cannot be formatted is not worth a crash
            return
        capture.add(record.levelno, text)


def summary(result) -> str:
    """An actor's return value as the job's result summary: a string as it is, else its str(); cut to 500."""
    if result is None:
        return ""
    return (result if isinstance(result, str) else str(result))[:500]
