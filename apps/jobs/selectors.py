"""Reads of the jobs app."""

from datetime import timedelta

from django.db.models import Count, Min
from django.utils import timezone

from apps.jobs.models import Job, JobStatus


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
        "dead_last_hour": Job.objects.filter(status=JobStatus.DEAD, finished_at__gte=hour_ago).count(),
    }
