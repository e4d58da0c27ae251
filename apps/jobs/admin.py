"""Operations admin: jobs, dead letters (requeue / discard / delete with confirmation), a dashboard,
workers, schedules and the audit log. Arguments and tracebacks come from outside: always escaped."""

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, Min, Q
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.jobs import services
from apps.jobs.models import DeadLetter, Job, JobStatus, OperatorAction, Schedule, WorkerHeartbeat

ACTIONS = {
    "requeue": ("Requeue", "sent again as new jobs (the old rows stay, marked discarded if dead)"),
    "discard": ("Discard", "marked discarded: they will not run, even if a copy is still queued"),
    "delete": ("Delete", "deleted from the ledger (running jobs are kept)"),
}


class DistinctValueFilter(admin.SimpleListFilter):
    """A filter listing the distinct values of one column (actor, queue, error class)."""

    field = ""

    def lookups(self, request, model_admin):
        values = model_admin.get_queryset(request).exclude(**{self.field: ""}).order_by(self.field)
        return [(v, v) for v in values.values_list(self.field, flat=True).distinct()[:100]]

    def queryset(self, request, queryset):
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class ActorFilter(DistinctValueFilter):
    title = parameter_name = field = "actor"


class QueueFilter(DistinctValueFilter):
    title = parameter_name = field = "queue"


class ErrorClassFilter(DistinctValueFilter):
    title = "error class"
    parameter_name = field = "error_class"


def _pre(value) -> str:
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', value)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["short_id", "actor", "args_short", "queue", "status", "attempts", "error_class", "enqueued_at",
                    "duration"]
    list_filter = ["status", ActorFilter, QueueFilter, ErrorClassFilter, "enqueued_at"]
    search_fields = ["id", "actor", "args", "kwargs", "error_message", "dedupe_key", "request_id"]
    date_hierarchy = "enqueued_at"
    list_select_related = ["requeued_from"]
    actions = ["requeue_jobs", "discard_jobs", "delete_jobs"]
    change_list_template = "admin/jobs/job/change_list.html"
    fields = ["id", "actor", "queue", "status", "attempts", "args_pre", "kwargs_pre", "error_class", "error_message_pre",
              "traceback_pre", "next_retry_at", "enqueued_at", "started_at", "finished_at", "duration_ms", "worker",
              "dedupe_key", "request_id", "requeued_from"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the ledger is history: staff view it and act on it through the actions

    def has_delete_permission(self, request, obj=None):
        return False  # deleting goes through the audited action

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    @admin.display(description="id", ordering="id")
    def short_id(self, obj):
        return obj.pk[:8]

    @admin.display(description="duration", ordering="duration_ms")
    def duration(self, obj):
        return "-" if obj.duration_ms is None else f"{obj.duration_ms:.0f} ms"

    @admin.display(description="args")
    def args_short(self, obj):
        text = ", ".join(map(repr, obj.args)) + (f", **{obj.kwargs!r}" if obj.kwargs else "")
        return text[:80] + ("…" if len(text) > 80 else "")

    @admin.display(description="args")
    def args_pre(self, obj):
        return _pre(obj.args)

    @admin.display(description="kwargs")
    def kwargs_pre(self, obj):
        return _pre(obj.kwargs)

    @admin.display(description="error message")
    def error_message_pre(self, obj):
        return _pre(obj.error_message)

    @admin.display(description="traceback")
    def traceback_pre(self, obj):
        return _pre(obj.traceback)

    def _confirm(self, request, queryset, action):
        """First POST shows what will happen; the confirmation POST (with `confirm`) does it. Requeueing
        a queued, retrying, running or succeeded job runs it again: the page says so, and those jobs are
        requeued only if the operator ticks `force`."""
        count = queryset.count()
        needs_force = queryset.filter(status__in=services.NEEDS_FORCE) if action == "requeue" else queryset.none()
        if request.POST.get("confirm") != "yes":
            label, effect = ACTIONS[action]
            return TemplateResponse(request, "admin/jobs/confirm_action.html", {
                **self.admin_site.each_context(request), "title": f"{label} {count} job(s)?",
                "jobs": queryset[:200], "count": count, "action": f"{action}_jobs", "label": label,
                "effect": effect, "opts": self.model._meta, "needs_force": needs_force[:200],
                "needs_force_count": needs_force.count(), "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across", "0"),
            })
        force = request.POST.get("force") == "yes"
        jobs = list(queryset if force else queryset.exclude(pk__in=needs_force.values("pk")))
        if action == "requeue":
            done = len(services.job_requeue(jobs=jobs, user=request.user, force=force))
        elif action == "discard":
            done = services.job_discard(jobs=jobs, user=request.user)
        else:
            done = services.job_delete(jobs=jobs, user=request.user)
        self.message_user(request, f"{ACTIONS[action][0]}: {done} of {count} job(s).", messages.SUCCESS)
        left = count - len(jobs)
        if left:
            self.message_user(request, f"{left} job(s) not requeued: they are queued, retrying, running or succeeded. "
                                       "Tick “force” on the confirmation page to requeue them anyway.", messages.WARNING)
        return None

    @admin.action(description="Requeue selected jobs")
    def requeue_jobs(self, request, queryset):
        return self._confirm(request, queryset, "requeue")

    @admin.action(description="Discard selected jobs")
    def discard_jobs(self, request, queryset):
        return self._confirm(request, queryset, "discard")

    @admin.action(description="Delete selected jobs")
    def delete_jobs(self, request, queryset):
        return self._confirm(request, queryset, "delete")

    def get_urls(self):
        return [path("dashboard/", self.admin_site.admin_view(self.dashboard), name="jobs_dashboard"), *super().get_urls()]

    def dashboard(self, request):
        now = timezone.now()
        hour_ago = now - timedelta(hours=1)
        jobs = Job.objects.all()
        by_queue = jobs.values("queue").annotate(
            total=Count("id"), **{status: Count("id", filter=Q(status=status)) for status in JobStatus.values}
        ).order_by("queue")
        oldest = jobs.filter(status=JobStatus.QUEUED).aggregate(oldest=Min("enqueued_at"))["oldest"]
        context = {
            **self.admin_site.each_context(request), "title": "Jobs dashboard", "opts": self.model._meta,
            "statuses": JobStatus.values, "by_queue": by_queue,
            "by_status": dict(jobs.values_list("status").annotate(n=Count("id")).order_by()),
            "oldest_queued_age": (now - oldest) if oldest else None,
            "succeeded_last_hour": jobs.filter(status=JobStatus.SUCCEEDED, finished_at__gte=hour_ago).count(),
            "failed_last_hour": jobs.filter(status=JobStatus.DEAD, finished_at__gte=hour_ago).count(),
            "retrying": jobs.filter(status=JobStatus.RETRYING).count(),
            "dead": jobs.filter(status=JobStatus.DEAD).count(),
            "workers": [w for w in WorkerHeartbeat.objects.all() if w.is_alive(now)],
        }
        return TemplateResponse(request, "admin/jobs/dashboard.html", context)


@admin.register(DeadLetter)
class DeadLetterAdmin(JobAdmin):
    list_display = ["short_id", "actor", "args_short", "queue", "attempts", "error_class", "error_summary", "finished_at"]
    list_filter = [ActorFilter, QueueFilter, ErrorClassFilter, "finished_at"]
    date_hierarchy = "finished_at"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=JobStatus.DEAD)

    @admin.display(description="error")
    def error_summary(self, obj):
        return obj.error_message[:120]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "alive", "queues", "current_jobs", "started_at", "last_seen"]
    readonly_fields = ["host", "pid", "queues", "current_jobs", "started_at", "last_seen"]

    def has_add_permission(self, request):
        return False

    @admin.display(boolean=True)
    def alive(self, obj):
        return obj.is_alive()


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ["name", "actor", "cron", "enabled", "next_run_at", "last_run_at", "last_job_link"]
    list_filter = ["enabled"]
    search_fields = ["name", "actor"]
    readonly_fields = ["next_run_at", "last_run_at", "last_job"]
    raw_id_fields = []

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.schedule_changed(schedule=obj, user=request.user, created=not change)

    def delete_model(self, request, obj):
        services.audit(user=request.user, action="schedule_delete", detail=f"{obj.name}: {obj.actor} '{obj.cron}'")
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for schedule in queryset:
            self.delete_model(request, schedule)

    @admin.display(description="last job")
    def last_job_link(self, obj):
        if not obj.last_job_id:
            return "-"
        return format_html('<a href="{}">{}</a>', reverse("admin:jobs_job_change", args=[obj.last_job_id]), obj.last_job_id[:8])


@admin.register(OperatorAction)
class OperatorActionAdmin(admin.ModelAdmin):
    list_display = ["at", "user", "action", "job_count", "detail"]
    list_filter = ["action", "user"]
    search_fields = ["detail", "job_ids"]
    readonly_fields = ["at", "user", "action", "job_ids", "detail"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="jobs")
    def job_count(self, obj):
        return len(obj.job_ids)
