"""structlog set-up: console lines for people, JSON lines for machines, request context in both."""

import structlog

QUIET_LOGGERS = ("urllib3", "httpx", "httpcore", "asyncio", "pika", "django.db.backends", "django.utils.autoreload")

SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.stdlib.ExtraAdder(),
]

def configure_structlog() -> None:
    structlog.configure(
        processors=[
            *SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )

class ResultKeptByTheLedger:
    """Drops Dramatiq's warning that an actor's return value was discarded for want of a Results backend:
    the job ledger keeps it (the job's result summary), and the warning, logged for every job that
    returns one, would be the one warning on every succeeded job's page."""

    def filter(self, record) -> bool:
        message = str(record.msg)
        return not (message.startswith("Actor '") and "returned a value that is not None" in message
                    and "Results middleware" in message)


def logging_config(log_format: str, level: str, log_file: str = "", file_max_bytes: int = 50 * 2**20,
                   file_backups: int = 5) -> dict:
    """The LOGGING dict: every record, structlog's or stdlib's, goes through one formatter. With `log_file`
    (NT_LOG_FILE), JSON lines also go to that file, rotated at `file_max_bytes` keeping `file_backups` old
    files; web, worker and scheduler processes may share it (concurrent-log-handler locks it)."""
    if log_format == "json":
        renderer = [structlog.processors.dict_tracebacks, structlog.processors.JSONRenderer()]
    else:
        renderer = [structlog.dev.ConsoleRenderer(colors=False)]
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
                "foreign_pre_chain": SHARED_PROCESSORS,
            },
            "json": {
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                               structlog.processors.dict_tracebacks, structlog.processors.JSONRenderer()],
                "foreign_pre_chain": SHARED_PROCESSORS,
            },
            "job_log": {  # plain lines for the job's page (never colours)
                "()": structlog.stdlib.ProcessorFormatter,
                "processors": [structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                               structlog.dev.ConsoleRenderer(colors=False)],
                "foreign_pre_chain": SHARED_PROCESSORS,
            },
        },
        "filters": {"result_kept_by_the_ledger": {"()": ResultKeptByTheLedger}},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "structlog"},
                     # a running job's own lines, kept on its ledger row (apps/jobs/context.py)
                     "job_log": {"class": "apps.jobs.context.JobLogHandler", "formatter": "job_log"},
                     **({"file": {"class": "concurrent_log_handler.ConcurrentRotatingFileHandler", "formatter": "json",
                                  "filename": log_file, "maxBytes": file_max_bytes, "backupCount": file_backups,
                                  "encoding": "utf-8"}} if log_file else {})},
        "root": {"handlers": ["console", "job_log", *(["file"] if log_file else [])], "level": level},
        "loggers": {
            **{name: {"level": "WARNING"} for name in QUIET_LOGGERS},
            "django.request": {"level": "ERROR"},  # our middleware logs every request once
            "django.server": {"level": "WARNING"},
            "dramatiq": {"level": "INFO"},
            "dramatiq.worker.WorkerThread": {"filters": ["result_kept_by_the_ledger"]},
            "gunicorn.error": {"level": "INFO"},
        },
    }

def get_logger(name: str):
    return structlog.get_logger(name)

