"""Reads of the jobs app: stats, the overview's queue health and job chart, dead letters grouped by error."""

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import dramatiq
import structlog
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import TruncMinute
from django.utils import timezone

from apps.jobs import queues
from apps.jobs.models import Job, JobStatus, WorkerHeartbeat

logger = structlog.get_logger(__name__)


def job_stats(*, now=None) -> dict:
    now = now or timezone.now()
    by_status_queue = Job.objects.values_list("queue", "status").annotate(n=Count("id")).order_by()
    by_queue: dict[str, dict[str, int]] = {}
    by_status = dict.fromkeys(JobStatus.values, 0)
    for queue, status, n in by_status_queue:
        by_queue.setdefault(queue, dict.fromkeys(JobStatus.values, 0))[status] = n
        by_status[status] += n
    oldest = Job.objects.filter(status=JobStatus.QUEUED).aggregate(oldest=Min("enqueued_at"))["oldest"]
    hour_ago = now - timedelta(hours=1)
    return {
        "by_status": by_status,
        "by_queue": by_queue,
        "dead": by_status[JobStatus.DEAD],
        "oldest_queued_age_seconds": round((now - oldest).total_seconds(), 1) if oldest else None,
        "succeeded_last_hour": Job.objects.filter(status=JobStatus.SUCCEEDED, finished_at__gte=hour_ago).count(),
        "dead_last_hour": died(since=hour_ago).count(),
        "paused_queues": sorted(queues.paused_queues()),
        "delayed": delayed().count(),
    }


def delayed(now: datetime | None = None) -> QuerySet:
    """Jobs waiting for a later time (a delayed enqueue, or a retry's backoff), soonest first."""
    return (Job.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RETRYING], next_retry_at__gt=now or timezone.now())
            .order_by("next_retry_at", "id"))


def died(*, since: datetime) -> QuerySet:
    """Jobs that died since `since`: dead letters, and those a requeue or discard has since marked
    discarded (they keep their error)."""
    return Job.objects.filter(Q(status=JobStatus.DEAD) | Q(status=JobStatus.DISCARDED, error_class__gt=""),
                              finished_at__gte=since)


# --- queue health ----------------------------------------------------------------------------

@dataclass
class QueueDepth:
    queue: str
    ledger: int  # queued or retrying jobs in the ledger
    broker: int | None  # messages waiting in the broker (ready + delayed); None: the broker could not say
    oldest_queued: datetime | None = None
    paused: bool = False  # its messages are held (apps/jobs/queues.py)


def queue_depths() -> list[QueueDepth]:
    """Per queue: the ledger's waiting jobs and the broker's waiting messages (they differ while
    messages are in flight, or when one was lost: the reconciler re-sends it)."""
    waiting = (Job.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RETRYING]).values("queue")
               .annotate(n=Count("id"), oldest=Min("enqueued_at")).order_by("queue"))
    ledger = {row["queue"]: row for row in waiting}
    broker = dramatiq.get_broker()
    names = sorted(set(ledger) | queues.known_queues(broker))
    depths = _broker_depths(broker, names)
    try:
        paused = queues.paused_queues(broker)
    except Exception as exc:  # noqa: BLE001 - the overview still loads, saying "unknown" for the broker
        logger.warning("paused_queues_unavailable", error=str(exc)[:200])
        paused = set()
    return [QueueDepth(name, ledger.get(name, {}).get("n", 0), depths.get(name),
                       ledger.get(name, {}).get("oldest"), name in paused) for name in names]


def _broker_depths(broker, names: list[str]) -> dict[str, int]:
    try:
        if hasattr(broker, "client"):  # Redis: a list per queue, and one for its delayed messages
            with broker.client.pipeline(transaction=False) as pipe:
                for name in names:
                    pipe.llen(f"{broker.namespace}:{name}")
                    pipe.llen(f"{broker.namespace}:{name}.DQ")
                counts = pipe.execute()
            return {name: counts[2 * i] + counts[2 * i + 1] for i, name in enumerate(names)}
        return {name: broker.queues[name].qsize() + broker.queues[f"{name}.DQ"].qsize()
                for name in names if name in broker.queues and f"{name}.DQ" in broker.queues}
    except Exception as exc:  # noqa: BLE001 - the overview shows "unknown", the page still loads
        logger.warning("broker_depth_unavailable", error=str(exc)[:200])
        return {}


def live_workers(now: datetime | None = None) -> list[WorkerHeartbeat]:
    now = now or timezone.now()
    return [w for w in WorkerHeartbeat.objects.order_by("host", "pid") if w.is_alive(now)]


# --- the job chart -----------------------------------------------------------------------------

@dataclass
class Timeline:
    """Jobs finished per `step` over [start, start + len(buckets) * step): per actor, succeeded and died."""
    start: datetime
    step: timedelta
    buckets: int
    succeeded: dict[str, list[int]] = field(default_factory=dict)
    failed: dict[str, list[int]] = field(default_factory=dict)


def job_timeline(*, now: datetime | None = None, hours: int = 24, step_minutes: int = 5) -> Timeline:
    """Counted in the database per minute (index on finished_at), folded into `step_minutes` here."""
    now = now or timezone.now()
    step = timedelta(minutes=step_minutes)
    buckets = hours * 60 // step_minutes
    start = (now - buckets * step).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % step_minutes)
    timeline = Timeline(start=start, step=step, buckets=buckets + 1)
    rows = (Job.objects.filter(finished_at__gte=start, status__in=[JobStatus.SUCCEEDED, JobStatus.DEAD,
                                                                   JobStatus.DISCARDED])
            .exclude(status=JobStatus.DISCARDED, error_class="")
            .annotate(minute=TruncMinute("finished_at")).values_list("actor", "status", "minute")
            .annotate(n=Count("id")).order_by())
    for actor, status, minute, n in rows:
        index = min(int((minute - start) / step), timeline.buckets - 1)
        series = timeline.succeeded if status == JobStatus.SUCCEEDED else timeline.failed
        series.setdefault(actor, [0] * timeline.buckets)[index] += n
    return timeline


# --- dead letters grouped by error ---------------------------------------------------------------

_VOLATILE = [
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I), "<id>"),
    (re.compile(r"\b0x[0-9a-f]+\b", re.I), "<hex>"),
    (re.compile(r"\b[0-9a-f]{16,}\b", re.I), "<hex>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
    (re.compile(r"'[^']{40,}'|\"[^\"]{40,}\""), "<text>"),
]


def fingerprint(error_class: str, message: str) -> str:
    """The error class and the first line of its message with numbers, ids, addresses and long quoted
    text replaced, so that 'timeout after 30 s on source 12' and '... 31 s on source 9' group together."""
    text = (message or "").strip().splitlines()[0][:300] if (message or "").strip() else ""
    for pattern, placeholder in _VOLATILE:
        text = pattern.sub(placeholder, text)
    return f"{error_class or 'Error'}: {text}" if text else (error_class or "Error")


@dataclass
class DeadLetterGroup:
    fingerprint: str
    count: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    actors: dict[str, int] = field(default_factory=dict)
    example_id: str = ""
    example_traceback: str = ""
    job_ids: list[str] = field(default_factory=list)


def dead_letter_groups(*, limit: int = 20000) -> tuple[list[DeadLetterGroup], int]:
    """The dead letters (newest `limit`) grouped by fingerprint, most numerous first; and how many dead
    letters there are in all (more than `limit`: the groups cover the newest only)."""
    total = Job.objects.dead().count()
    groups: dict[str, DeadLetterGroup] = {}
    rows = (Job.objects.dead().order_by("-finished_at", "-id")
            .values_list("id", "actor", "error_class", "error_message", "finished_at")[:limit])
    for job_id, actor, error_class, message, finished in rows.iterator(chunk_size=2000):
        group = groups.setdefault(fingerprint(error_class, message), DeadLetterGroup(fingerprint(error_class, message)))
        group.count += 1
        group.job_ids.append(job_id)
        group.actors[actor] = group.actors.get(actor, 0) + 1
        if group.last_seen is None or (finished and finished > group.last_seen):
            group.last_seen, group.example_id = finished, job_id
        if group.first_seen is None or (finished and finished < group.first_seen):
            group.first_seen = finished
    ordered = sorted(groups.values(), key=lambda g: (-g.count, g.fingerprint))
    examples = dict(Job.objects.filter(pk__in=[g.example_id for g in ordered]).values_list("id", "traceback"))
    for group in ordered:
        group.example_traceback = examples.get(group.example_id, "")
    return ordered, total


def dead_letter_group(key: str, *, limit: int = 20000) -> DeadLetterGroup | None:
    return next((group for group in dead_letter_groups(limit=limit)[0] if group.fingerprint == key), None)

