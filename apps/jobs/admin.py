"""Operations admin: jobs (Requeue and Discard on a job's own page too), dead letters (requeue / discard /
delete with confirmation, one by one or a whole group of the same error), workers, schedules and the
audit log. The overview is the admin index (newstunneler/overview.py). Arguments and tracebacks come
from outside: always escaped."""

from datetime import timedelta

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django_dramatiq.models import Task

from apps.jobs import queues, selectors, services
from apps.jobs.models import DeadLetter, Job, JobStatus, OperatorAction, Schedule, WorkerHeartbeat

if admin.site.is_registered(Task):  # django_dramatiq's own task list: the ledger (Jobs) is the one job list
    admin.site.unregister(Task)

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


class DelayedFilter(admin.SimpleListFilter):
    """?delayed=yes: jobs waiting for a later time (delayed, or a retry's backoff), soonest first."""

    title = "waiting for a later time"
    parameter_name = "delayed"

    def lookups(self, request, model_admin):
        return [("yes", "delayed or backing off")]

    def queryset(self, request, queryset):
        if self.value() != "yes":
            return queryset
        return queryset.filter(pk__in=selectors.delayed().values("pk")).order_by("next_retry_at", "id")


class DiedFilter(admin.SimpleListFilter):
    """?died=1h: jobs that died in the last hour, including those since requeued or discarded (the
    overview's "died, last hour" links here)."""

    title = "died"
    parameter_name = "died"
    WINDOWS = {"1h": timedelta(hours=1), "24h": timedelta(hours=24)}

    def lookups(self, request, model_admin):
        return [("1h", "in the last hour"), ("24h", "in the last 24 hours")]

    def queryset(self, request, queryset):
        if self.value() not in self.WINDOWS:
            return queryset
        return queryset.filter(pk__in=selectors.died(since=timezone.now() - self.WINDOWS[self.value()]).values("pk"))


def _job_link(job_id: str, actor: str | None) -> str:
    return format_html('<a href="{}">{} {}</a>', reverse("admin:jobs_job_change", args=[job_id]), actor or "job",
                       job_id[:8])


def _job_links(jobs, total: int) -> str:
    if not total:
        return "-"
    links = format_html_join(", ", "{}", ((_job_link(job.pk, job.actor),) for job in jobs))
    return links + (format_html(" … and {} more", total - len(jobs)) if total > len(jobs) else "")


def _pre(value) -> str:
    return format_html('<pre style="white-space: pre-wrap; margin: 0">{}</pre>', value)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["short_id", "actor", "args_short", "queue", "status", "attempts", "error_class", "enqueued_at",
                    "duration"]
    list_filter = ["status", DiedFilter, DelayedFilter, ActorFilter, QueueFilter, ErrorClassFilter, "enqueued_at"]
    search_fields = ["id", "actor", "args", "kwargs", "error_message", "dedupe_key", "request_id"]
    date_hierarchy = "enqueued_at"
    list_select_related = ["requeued_from"]
    actions = ["requeue_jobs", "discard_jobs", "delete_jobs"]
    change_list_template = "admin/jobs/job/change_list.html"
    change_form_template = "admin/jobs/job/change_form.html"
    fieldsets = [
        (None, {"fields": ["id", "actor", "queue", "status", "attempts", "args_pre", "kwargs_pre", "result",
                           "enqueued_at", "next_retry_at", "request_id", "dedupe_key"]}),
        ("Related jobs", {"fields": ["parent_link", "children_links", "requeued_from", "requeues_links"]}),
        ("Attempts", {"fields": ["timeline"]}),
        ("Last attempt", {"fields": ["started_at", "finished_at", "duration_ms", "worker", "error_class",
                                     "error_message_pre", "traceback_pre", "log_pre"]}),
    ]
    readonly_fields = ["id", "actor", "queue", "status", "attempts", "args_pre", "kwargs_pre", "result", "enqueued_at",
                       "next_retry_at", "request_id", "dedupe_key", "parent_link", "children_links", "requeued_from",
                       "requeues_links", "timeline", "started_at", "finished_at", "duration_ms", "worker", "error_class",
                       "error_message_pre", "traceback_pre", "log_pre"]

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
        text = obj.call_text
        return format_html('<span title="{}">{}</span>', text, text[:80] + ("…" if len(text) > 80 else ""))

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

    @admin.display(description="log lines")
    def log_pre(self, obj):
        return format_html('<pre class="nt-traceback">{}</pre>', obj.log) if obj.log else "-"

    @admin.display(description="started by")
    def parent_link(self, obj):
        return _job_link(obj.parent_id, obj.parent.actor if obj.parent else None) if obj.parent_id else "-"

    @admin.display(description="jobs it started")
    def children_links(self, obj):
        return _job_links(obj.children.order_by("enqueued_at", "id")[:50], obj.children.count())

    @admin.display(description="requeued as")
    def requeues_links(self, obj):
        return _job_links(obj.requeues.order_by("enqueued_at", "id")[:50], obj.requeues.count())

    @admin.display(description="timeline")
    def timeline(self, obj):
        """Every attempt, oldest first: the failed ones as they were kept (JobAttempt), then the job's own
        row for the attempt that succeeded or is under way."""
        rows = [(a.number, a.get_outcome_display(), a.worker, a.started_at, a.duration_ms,
                 f"{a.error_class}: {a.error_message}" if a.error_class else "", a.traceback, a.log)
                for a in obj.failed_attempts.all()]
        if obj.status in (JobStatus.SUCCEEDED, JobStatus.RUNNING) or (obj.started_at and not rows):
            rows.append((obj.attempts, obj.get_status_display(), obj.worker, obj.started_at, obj.duration_ms,
                         obj.result, "", ""))
        if not rows:
            return "not started yet"
        body = format_html_join("", (
            '<tr class="attempt"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class="nt-wrap">{}{}{}</td></tr>'),
            ((number, outcome, worker or "-", started.strftime("%Y-%m-%d %H:%M:%S") if started else "-",
              "-" if duration is None else f"{duration:.0f} ms", detail,
              format_html('<details><summary>traceback</summary><pre class="nt-traceback">{}</pre></details>', tb)
              if tb else "",
              format_html('<details><summary>log</summary><pre class="nt-traceback">{}</pre></details>', log)
              if log else "")
             for number, outcome, worker, started, duration, detail, tb, log in rows))
        return format_html('<table class="nt-table" id="job-timeline"><thead><tr><th>#</th><th>outcome</th><th>worker</th>'
                           '<th>started</th><th>took</th><th>error or result</th></tr></thead><tbody>{}</tbody></table>',
                           body)

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
        return [path("dashboard/", self.admin_site.admin_view(self.dashboard), name="jobs_dashboard"),
                path("queues/<str:queue>/<str:action>/", self.admin_site.admin_view(self.queue_control),
                     name="jobs_queue_control"),
                *super().get_urls()]

    def queue_control(self, request, queue, action):
        """POST: pause or resume a queue (the overview's buttons); audited. Back to the overview."""
        if request.method != "POST" or action not in ("pause", "resume"):
            return HttpResponseRedirect(reverse("admin:index") + "#nt-overview")
        if not request.user.has_perm("jobs.change_job"):
            raise PermissionDenied
        try:
            if action == "pause":
                changed = queues.queue_pause(queue=queue, user=request.user)
            else:
                changed = queues.queue_resume(queue=queue, user=request.user)
        except queues.QueueControlError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            state = "paused: its messages are held until you resume it" if action == "pause" else "resumed"
            self.message_user(request, f"Queue {queue} {state}." if changed else f"Queue {queue} was already "
                              f"{'paused' if action == 'pause' else 'running'}.", messages.SUCCESS if changed else
                              messages.WARNING)
        return HttpResponseRedirect(reverse("admin:index") + "#nt-overview")

    def dashboard(self, request):
        """The old jobs dashboard's address: the overview on the admin index replaced it."""
        return HttpResponseRedirect(reverse("admin:index") + "#nt-overview")


@admin.register(DeadLetter)
class DeadLetterAdmin(JobAdmin):
    list_display = ["short_id", "actor", "args_short", "queue", "attempts", "error_class", "error_summary", "finished_at"]
    list_filter = [ActorFilter, QueueFilter, ErrorClassFilter, "finished_at"]
    date_hierarchy = "finished_at"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=JobStatus.DEAD)

    @admin.display(description="error")
    def error_summary(self, obj):
        text = obj.error_message
        return format_html('<span title="{}">{}</span>', text[:2000], text[:160] + ("…" if len(text) > 160 else ""))

    def get_urls(self):
        return [path("groups/", self.admin_site.admin_view(self.groups), name="jobs_deadletter_groups"),
                *super().get_urls()]

    def groups(self, request):
        """The dead letters grouped by error fingerprint (class + message with numbers and ids normalised);
        POST requeues or discards one whole group, after a confirmation page, audited as any action."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            return self._group_action(request)
        groups, total = selectors.dead_letter_groups()
        return TemplateResponse(request, "admin/jobs/deadletter/groups.html", {
            **self.admin_site.each_context(request), "title": "Dead letters by error", "opts": self.model._meta,
            "groups": groups, "total": total, "covered": sum(g.count for g in groups),
            "can_act": self.has_view_permission(request) and request.user.has_perm("jobs.change_job"),
        })

    def _group_action(self, request):
        if not request.user.has_perm("jobs.change_job"):
            raise PermissionDenied
        action, key = request.POST.get("action"), request.POST.get("fingerprint", "")
        back = HttpResponseRedirect(reverse("admin:jobs_deadletter_groups"))
        if action not in ("requeue", "discard"):
            self.message_user(request, "Unknown action: choose Requeue or Discard.", messages.ERROR)
            return back
        group = selectors.dead_letter_group(key)
        if group is None:
            self.message_user(request, "That group has no dead letters any more (requeued or discarded meanwhile).",
                              messages.WARNING)
            return back
        label, effect = ACTIONS[action]
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(request, "admin/jobs/deadletter/confirm_group.html", {
                **self.admin_site.each_context(request), "title": f"{label} {group.count} dead letter(s)?",
                "opts": self.model._meta, "group": group, "action": action, "label": label, "effect": effect,
            })
        jobs = list(Job.objects.dead().filter(pk__in=group.job_ids))
        if action == "requeue":
            done = len(services.job_requeue(jobs=jobs, user=request.user))
        else:
            done = services.job_discard(jobs=jobs, user=request.user)
        self.message_user(request, f"{label}: {done} dead letter(s) of “{group.fingerprint}”.", messages.SUCCESS)
        return back


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
    actions = ["run_now", "enable", "disable"]

    @admin.action(description="Run now (outside the cron times)")
    def run_now(self, request, queryset):
        started = services.schedule_run_now(schedules=list(queryset), user=request.user)
        self.message_user(request, "Started: " + ", ".join(f"{name} (job {job_id[:8]})" for name, job_id in started.items()),
                          messages.SUCCESS)

    @admin.action(description="Enable selected schedules")
    def enable(self, request, queryset):
        done = services.schedules_set_enabled(schedules=list(queryset), enabled=True, user=request.user)
        self.message_user(request, f"Enabled {done} schedule(s).", messages.SUCCESS)

    @admin.action(description="Disable selected schedules")
    def disable(self, request, queryset):
        done = services.schedules_set_enabled(schedules=list(queryset), enabled=False, user=request.user)
        self.message_user(request, f"Disabled {done} schedule(s).", messages.SUCCESS)
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
