"""The operations overview: the admin index's first section (templates/admin/overview.html), refreshed
in place every few seconds from /admin/overview/ (newstunneler/static/newstunneler/overview.js).

Pipeline health now (sources, articles / analyses / signals in the last hour, dead letters, queue
depth from the ledger and from the broker, the oldest waiting job, live workers and what they run)
and two charts of the last 24 h. It reads several apps, so it lives here, where the apps are wired
together; each count is an indexed query."""

from datetime import timedelta

from django.db.models import Count
from django.db.models.functions import TruncHour
from django.template.response import TemplateResponse
from django.utils import timezone

from apps.articles.models import Analysis, Article
from apps.articles.selectors import source_health
from apps.jobs import selectors as jobs
from apps.jobs.models import Job, JobStatus
from apps.signals.models import Signal
from newstunneler import charts

REFRESH_SECONDS = 5


def hourly(queryset, field: str, start, hours: int) -> list[int]:
    counts = [0] * hours
    rows = (queryset.filter(**{f"{field}__gte": start}).annotate(hour=TruncHour(field)).values_list("hour")
            .annotate(n=Count("pk")).order_by())
    for hour, n in rows:
        index = int((hour - start).total_seconds() // 3600)
        if 0 <= index < hours:
            counts[index] += n
    return counts


def age(delta: timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def build(now=None) -> dict:
    now = now or timezone.now()
    hour_ago = now - timedelta(hours=1)
    queues = jobs.queue_depths()
    oldest = min((q.oldest_queued for q in queues if q.oldest_queued), default=None)
    workers = jobs.live_workers(now)
    running_ids = [job_id for worker in workers for job_id in worker.current_jobs]
    running = {job.pk: job for job in Job.objects.filter(pk__in=running_ids).only("id", "actor", "started_at")}
    timeline = jobs.job_timeline(now=now)
    busiest = sorted(timeline.succeeded, key=lambda actor: -sum(timeline.succeeded[actor]))[:6]
    job_series = {actor: timeline.succeeded[actor] for actor in busiest}
    job_series |= {f"{actor} failed": values for actor, values in sorted(timeline.failed.items())}
    start_hour = (now - timedelta(hours=23)).replace(minute=0, second=0, microsecond=0)
    return {
        "now": now,
        "refresh_seconds": REFRESH_SECONDS,
        "sources": source_health(),
        "articles_last_hour": Article.objects.filter(fetched_at__gte=hour_ago).count(),
        "analyses_last_hour": Analysis.objects.filter(created_at__gte=hour_ago).count(),
        "signals_last_hour": Signal.objects.filter(created_at__gte=hour_ago).count(),
        "dead": Job.objects.dead().count(),
        "died_last_hour": jobs.died(since=hour_ago).count(),
        "retrying": Job.objects.filter(status=JobStatus.RETRYING).count(),
        "running": Job.objects.filter(status=JobStatus.RUNNING).count(),
        "delayed": jobs.delayed(now).count(),
        "queues": queues,
        "oldest_queued_age": age(now - oldest) if oldest else None,
        "workers": [(worker, [running.get(job_id) or job_id for job_id in worker.current_jobs]) for worker in workers],
        "job_chart": charts.lines(
            "Jobs finished per 5 minutes, last 24 h", timeline.start, timeline.step, job_series,
            colours={name: charts.FAILED for name in job_series if name.endswith(" failed")}),
        "pipeline_chart": charts.lines(
            "Articles and signals per hour, last 24 h", start_hour, timedelta(hours=1),
            {"articles": hourly(Article.objects, "fetched_at", start_hour, 24),
             "signals": hourly(Signal.objects, "created_at", start_hour, 24)}),
    }


def fragment(request):
    """The overview alone, for the index page's refresh (staff only and never cached: admin_view wraps it)."""
    return TemplateResponse(request, "admin/overview.html", {"overview": build()})
