"""Running a job in the caller instead of on a worker: what `enqueue` does while the async_jobs
flag is off (for debugging). The ledger row goes through the same states, without retries."""

import logging

import structlog
from django.conf import settings
from django.utils import timezone

from apps.jobs import context
from apps.jobs.errors import error_summary
from apps.jobs.middleware.heartbeat import worker_name
from newstunneler.middleware import current_request_id

logger = structlog.get_logger(__name__)


def run_inline(job_id: str, actor, args: tuple, kwargs: dict) -> None:
    from apps.flags import is_enabled
    from apps.jobs.models import Job, JobStatus

    gate = actor.options.get("flag")
    if gate and not is_enabled(gate):
        Job.objects.filter(pk=job_id).update(status=JobStatus.SKIPPED, finished_at=timezone.now())
        return
    started = timezone.now()
    Job.objects.filter(pk=job_id).update(status=JobStatus.RUNNING, started_at=started, attempts=1, worker=worker_name())
    outer = context.current_job_id()  # inline inside a worker's job: keep that job's binding afterwards
    if outer is None:
        context.start(job_id=job_id, actor=actor.actor_name, attempt=1, request_id=current_request_id() or "",
                      log_chars=settings.JOBS_LOG_CHARS)
    try:
        result = actor.fn(*args, **kwargs)
    except Exception as exc:  # recorded as a dead letter; the caller carries on
        log = context.finish() if outer is None else ""
        error = error_summary(exc)
        finished = timezone.now()
        Job.objects.filter(pk=job_id).update(
            status=JobStatus.DEAD, finished_at=finished, duration_ms=(finished - started).total_seconds() * 1000,
            log=log, **error.as_fields())
        logger.warning("inline_job_dead", job_id=job_id, actor=actor.actor_name, error=str(error)[:300])
        return
    log = context.finish(logging.WARNING) if outer is None else ""
    finished = timezone.now()
    Job.objects.filter(pk=job_id).update(status=JobStatus.SUCCEEDED, finished_at=finished, result=context.summary(result),
                                         log=log, duration_ms=(finished - started).total_seconds() * 1000)
