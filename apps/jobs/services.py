"""Every write of the jobs app: operator actions on jobs, the reconciler, retention, schedules."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import dramatiq
import structlog
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.jobs import brokerstate, delivery
from apps.jobs.enqueue import enqueue, send_on_commit
from apps.jobs.models import LIVE_STATUSES, Job, JobStatus, OperatorAction, Schedule, WorkerHeartbeat
from apps.jobs.registry import is_registered, not_registered_message

logger = structlog.get_logger(__name__)


def audit(*, user, action: str, job_ids=(), detail: str = "") -> OperatorAction:
    return OperatorAction.objects.create(user=user if user and user.is_authenticated else None, action=action,
                                         job_ids=list(job_ids), detail=detail[:5000])


# A job in one of these states is already going to run, is running, or ran fine: requeueing it runs
# it (again) beside that, so it takes `force`.
NEEDS_FORCE = (JobStatus.QUEUED, JobStatus.RETRYING, JobStatus.RUNNING, JobStatus.SUCCEEDED)


class RequeueRefused(Exception):
    """Some jobs may only be requeued with force; `jobs` lists them."""

    def __init__(self, jobs: list[Job]):
        self.jobs = jobs
        states = ", ".join(sorted({job.status for job in jobs}))
        super().__init__(f"{len(jobs)} job(s) are {states}: requeueing would run them again beside that; "
                         "force it to do so anyway")


@transaction.atomic
def job_requeue(*, jobs, user=None, force: bool = False) -> list[str]:
    """Send each job again as a new job linked to it (the old row stays as history). Dead, discarded and
    skipped jobs requeue freely; queued, retrying, running and succeeded ones only with `force`
    (RequeueRefused otherwise, and nothing is requeued). A dead, queued or retrying old job is marked
    discarded (a copy still in the broker is then skipped). The new job takes over the old one's dedupe
    key: the old one gives it up, so exactly one live job holds it."""
    jobs = list(jobs)
    refused = [job for job in jobs if job.status in NEEDS_FORCE]
    if refused and not force:
        raise RequeueRefused(refused)
    old_ids = [job.pk for job in jobs]
    Job.objects.filter(pk__in=old_ids, dedupe_key__isnull=False).update(dedupe_key=None)  # (the new jobs take them)
    new_ids = [enqueue(job.actor, *job.args, requeued_from=job, dedupe_key=job.dedupe_key, **job.kwargs)
               for job in jobs]
    # A dead job keeps the time it died (the overview counts deaths by it); a waiting one ends now.
    Job.objects.filter(pk__in=old_ids, status=JobStatus.DEAD).update(status=JobStatus.DISCARDED)
    Job.objects.filter(pk__in=old_ids, status__in=[JobStatus.QUEUED, JobStatus.RETRYING]).update(
        status=JobStatus.DISCARDED, finished_at=timezone.now())
    delivery.read_before_running(old_ids)
    forced = f" (forced: {len(refused)} {', '.join(sorted({job.status for job in refused}))})" if refused else ""
    audit(user=user, action="requeue", job_ids=old_ids, detail=f"new jobs: {', '.join(new_ids)}{forced}")
    return new_ids


@transaction.atomic
def job_discard(*, jobs, user=None) -> int:
    """Mark jobs discarded: a queued copy still in the broker is skipped when it arrives."""
    ids = [job.pk for job in jobs]
    count = Job.objects.filter(pk__in=ids, status=JobStatus.DEAD).update(status=JobStatus.DISCARDED)  # keeps its death time
    count += Job.objects.filter(pk__in=ids).exclude(
        status__in=[JobStatus.SUCCEEDED, JobStatus.RUNNING, JobStatus.DISCARDED]).update(
        status=JobStatus.DISCARDED, finished_at=timezone.now())
    delivery.read_before_running(ids)
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
    returned: dict[str, int] = field(default_factory=dict)  # queue -> messages of dead workers given back
    unknown_actor: list[str] = field(default_factory=list)  # jobs of actors no longer registered: now dead


def jobs_reconcile(*, now: datetime | None = None, broker: dramatiq.Broker | None = None) -> ReconcileResult:
    """Recover work the broker lost or holds for nobody. First the messages held by dead workers go
    back to their queues (brokerstate.requeue_dead_workers). Then jobs whose message is gone are
    re-sent: queued/retrying ones older than the grace period that the broker no longer holds, and
    running ones whose worker stopped heartbeating. A job still in the broker, or running on a live
    worker, is left alone; a job of an actor that is no longer registered ends dead, saying so."""
    now = now or timezone.now()
    broker = broker or dramatiq.get_broker()
    result = ReconcileResult(returned=brokerstate.requeue_dead_workers(broker, int(now.timestamp() * 1000)))
    candidates = _reconcile_candidates(now)
    result.checked = len(candidates)
    if not candidates:
        return result
    in_broker = brokerstate.message_ids(broker, {job.queue for job in candidates})
    for job in candidates:
        if job.pk in in_broker:
            continue
        if not is_registered(job.actor):
            _dead_unknown_actor(job, now)
            result.unknown_actor.append(job.pk)
            continue
        _resend(job, now, broker)
        result.resent.append(job.pk)
    if result.resent:
        logger.warning("jobs_resent", count=len(result.resent), job_ids=result.resent[:20])
    return result


def _reconcile_candidates(now: datetime) -> list[Job]:
    grace = now - timedelta(seconds=settings.JOBS_RECONCILE_GRACE)
    live_workers = {
        f"{host}:{pid}" for host, pid in WorkerHeartbeat.objects.filter(
            last_seen__gte=now - timedelta(seconds=settings.JOBS_WORKER_DEAD_AFTER)).values_list("host", "pid")
    }
    return list(
        Job.objects.filter(status__in=LIVE_STATUSES, updated_at__lt=grace)
        .filter(Q(status__in=[JobStatus.QUEUED, JobStatus.RETRYING]) | ~Q(worker__in=live_workers))
        .order_by("enqueued_at")
    )


def _dead_unknown_actor(job: Job, now: datetime) -> None:
    message = not_registered_message(job.actor)
    Job.objects.filter(pk=job.pk, status__in=LIVE_STATUSES).update(
        status=JobStatus.DEAD, finished_at=now, error_class="ActorNotFound", error_message=message,
        traceback=f"The reconciler could not re-send this job: {message}.")
    logger.warning("job_dead_unknown_actor", job_id=job.pk, actor=job.actor)


def _resend(job: Job, now: datetime, broker: dramatiq.Broker) -> None:
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
            # The run's own trace id: its job, and every job that job starts, carry it.
            with structlog.contextvars.bound_contextvars(request_id=f"schedule-{schedule.name[:60]}-{now:%Y%m%dT%H%M%S}"):
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


@transaction.atomic
def schedule_run_now(*, schedules, user=None) -> dict[str, str]:
    """Enqueue each schedule's job now, outside its cron times (its next run stays as it was). A schedule
    whose previous job is still queued or running gets that job's id back (the dedupe key holds), as a
    due run would. Returns {schedule name: job id}; audited."""
    started = {}
    for schedule in schedules:
        job_id = enqueue(schedule.actor, *schedule.args, dedupe_key=f"schedule:{schedule.pk}", **schedule.kwargs)
        Schedule.objects.filter(pk=schedule.pk).update(last_run_at=timezone.now(), last_job_id=job_id)
        started[schedule.name] = job_id
    audit(user=user, action="schedule_run_now", job_ids=list(started.values()),
          detail="run now: " + ", ".join(f"{name} -> {job_id[:8]}" for name, job_id in started.items()))
    return started


@transaction.atomic
def schedules_set_enabled(*, schedules, enabled: bool, user=None) -> int:
    """Enable or disable schedules in bulk: an enabled one's next run is its next cron time; audited."""
    now, changed = timezone.now(), []
    for schedule in schedules:
        if schedule.enabled == enabled:
            continue
        schedule.enabled = enabled
        schedule.next_run_at = schedule.following_run(now) if enabled else None
        schedule.save(update_fields=["enabled", "next_run_at"])
        changed.append(schedule.name)
    if changed:
        audit(user=user, action="schedule_enable" if enabled else "schedule_disable", detail=", ".join(changed))
    return len(changed)
