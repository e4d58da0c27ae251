"""Every write of the jobs app: operator actions on jobs, the reconciler, retention, schedules."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import dramatiq
import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.jobs import brokerstate
from apps.jobs.enqueue import enqueue, get_actor, send_on_commit
from apps.jobs.models import LIVE_STATUSES, Job, JobStatus, OperatorAction, Schedule, WorkerHeartbeat

logger = structlog.get_logger(__name__)


def audit(*, user, action: str, job_ids=(), detail: str = "") -> OperatorAction:
    return OperatorAction.objects.create(user=user if user and user.is_authenticated else None, action=action,
                                         job_ids=list(job_ids), detail=detail[:5000])


@transaction.atomic
def job_requeue(*, jobs, user=None) -> list[str]:
    """Send each dead/discarded/failed job again as a new job linked to it (the old row stays as history)."""
    new_ids = []
    for job in jobs:
        new_ids.append(enqueue(job.actor, *job.args, requeued_from=job, **job.kwargs))
    old_ids = [job.pk for job in jobs]
    Job.objects.filter(pk__in=old_ids, status=JobStatus.DEAD).update(status=JobStatus.DISCARDED)
    audit(user=user, action="requeue", job_ids=old_ids, detail=f"new jobs: {', '.join(new_ids)}")
    return new_ids


@transaction.atomic
def job_discard(*, jobs, user=None) -> int:
    """Mark jobs discarded: a queued copy still in the broker is skipped when it arrives."""
    ids = [job.pk for job in jobs]
    count = Job.objects.filter(pk__in=ids).exclude(status__in=[JobStatus.SUCCEEDED, JobStatus.RUNNING]).update(
        status=JobStatus.DISCARDED, finished_at=timezone.now())
    audit(user=user, action="discard", job_ids=ids, detail=f"{count} discarded")
    return count


@transaction.atomic
def job_delete(*, jobs, user=None) -> int:
    ids = [job.pk for job in jobs]
    count, _ = Job.objects.filter(pk__in=ids).exclude(status=JobStatus.RUNNING).delete()
    audit(user=user, action="delete", job_ids=ids, detail=f"{count} deleted")
    return count


@dataclass
class PurgeResult:
    finished: int = 0
    dead: int = 0


def jobs_purge(*, now: datetime | None = None) -> PurgeResult:
    """Retention: succeeded/skipped/discarded jobs after NT_JOBS_KEEP_SUCCEEDED_DAYS, dead after
    NT_JOBS_KEEP_DEAD_DAYS."""
    now = now or timezone.now()
    done_before = now - timedelta(days=settings.JOBS_KEEP_SUCCEEDED_DAYS)
    dead_before = now - timedelta(days=settings.JOBS_KEEP_DEAD_DAYS)
    finished, _ = Job.objects.filter(
        status__in=[JobStatus.SUCCEEDED, JobStatus.SKIPPED, JobStatus.DISCARDED], finished_at__lt=done_before
    ).delete()
    dead, _ = Job.objects.filter(status=JobStatus.DEAD, finished_at__lt=dead_before).delete()
    stale = WorkerHeartbeat.objects.filter(last_seen__lt=now - timedelta(days=1)).delete()[0]
    logger.info("jobs_purged", finished=finished, dead=dead, stale_heartbeats=stale)
    return PurgeResult(finished=finished, dead=dead)


@dataclass
class ReconcileResult:
    checked: int = 0
    resent: list[str] = field(default_factory=list)


def jobs_reconcile(*, now: datetime | None = None, broker: dramatiq.Broker | None = None) -> ReconcileResult:
    """Re-send jobs whose message is gone: queued/retrying ones older than the grace period that the
    broker no longer holds, and running ones whose worker stopped heartbeating. A job still in the
    broker, or running on a live worker, is left alone."""
    now = now or timezone.now()
    broker = broker or dramatiq.get_broker()
    grace = now - timedelta(seconds=settings.JOBS_RECONCILE_GRACE)
    live_workers = {
        f"{host}:{pid}" for host, pid in WorkerHeartbeat.objects.filter(
            last_seen__gte=now - timedelta(seconds=settings.JOBS_WORKER_DEAD_AFTER)).values_list("host", "pid")
    }
    candidates = list(
        Job.objects.filter(status__in=LIVE_STATUSES, updated_at__lt=grace)
        .filter(Q(status__in=[JobStatus.QUEUED, JobStatus.RETRYING]) | ~Q(worker__in=live_workers))
        .order_by("enqueued_at")
    )
    result = ReconcileResult(checked=len(candidates))
    if not candidates:
        return result
    in_broker = brokerstate.message_ids(broker, {job.queue for job in candidates})
    for job in candidates:
        if job.pk in in_broker:
            continue
        _resend(job, now, broker)
        result.resent.append(job.pk)
    if result.resent:
        logger.warning("jobs_resent", count=len(result.resent), job_ids=result.resent[:20])
    return result


def _resend(job: Job, now: datetime, broker: dramatiq.Broker) -> None:
    get_actor(job.actor)  # the actor must still exist
    message = dramatiq.Message(
        queue_name=job.queue, actor_name=job.actor, args=tuple(job.args), kwargs=job.kwargs,
        options={"retries": max(0, job.attempts - (1 if job.status == JobStatus.RUNNING else 0))},
        message_id=job.pk, message_timestamp=int(job.enqueued_at.timestamp() * 1000),
    )
    delay = job.next_retry_at - now if job.status == JobStatus.RETRYING and job.next_retry_at and job.next_retry_at > now else None
    with transaction.atomic():
        Job.objects.filter(pk=job.pk).update(status=JobStatus.QUEUED if delay is None else JobStatus.RETRYING, worker="")
        send_on_commit(message, delay, broker=broker)


# --- Schedules -------------------------------------------------------------------------------------


def schedule_fire_due(*, now: datetime | None = None) -> list[str]:
    """Enqueue every enabled schedule whose next run has come, once: the rows are locked (SKIP LOCKED on
    PostgreSQL, so several schedulers share the work), and each fired run moves next_run_at on."""
    now = now or timezone.now()
    fired = []
    with transaction.atomic():
        due = Schedule.objects.filter(enabled=True).filter(Q(next_run_at__lte=now) | Q(next_run_at__isnull=True))
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        for schedule in due.order_by("next_run_at"):
            if schedule.next_run_at is None:  # new or re-enabled: first run at the next cron time
                schedule.next_run_at = schedule.following_run(now)
                schedule.save(update_fields=["next_run_at"])
                continue
            job_id = enqueue(schedule.actor, *schedule.args, dedupe_key=f"schedule:{schedule.pk}", **schedule.kwargs)
            schedule.last_run_at, schedule.last_job_id = now, job_id
            schedule.next_run_at = schedule.following_run(now)
            schedule.save(update_fields=["last_run_at", "last_job", "next_run_at"])
            fired.append(job_id)
    return fired


def schedule_changed(*, schedule: Schedule, user, created: bool) -> None:
    """After an admin edit: the next run follows the (new) cron expression, and the edit is audited."""
    schedule.next_run_at = schedule.following_run(timezone.now()) if schedule.enabled else None
    schedule.save(update_fields=["next_run_at"])
    audit(user=user, action="schedule_create" if created else "schedule_edit",
          detail=f"{schedule.name}: {schedule.actor} '{schedule.cron}' enabled={schedule.enabled} args={schedule.args}")
