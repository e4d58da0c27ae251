"""The job ledger: one row per Dramatiq message, schedules, worker heartbeats and the operators' audit log."""

import json
from datetime import UTC, datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.jobs.registry import is_registered


class JobStatus(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    DEAD = "dead"
    SKIPPED = "skipped"
    DISCARDED = "discarded"


LIVE_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.RETRYING)


def message_fields(message) -> dict:
    """The fields of a job's row that come from its Dramatiq message (for a message sent around the
    ledger, which has none yet); a delayed message's queue is named without the ".DQ"."""
    return {"actor": message.actor_name, "queue": message.queue_name.removesuffix(".DQ"), "args": list(message.args),
            "kwargs": message.kwargs}


class JobQuerySet(models.QuerySet):
    def live(self):
        return self.filter(status__in=LIVE_STATUSES)

    def dead(self):
        return self.filter(status=JobStatus.DEAD)


class Job(models.Model):
    id = models.CharField(primary_key=True, max_length=36, help_text="The Dramatiq message id.")
    actor = models.CharField(max_length=100)
    queue = models.CharField(max_length=100)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    attempts = models.PositiveIntegerField(default=0)
    next_retry_at = models.DateTimeField(null=True, blank=True)
    error_class = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    enqueued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True, help_text="host:pid of the worker that ran it last")
    dedupe_key = models.CharField(max_length=200, null=True, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    requeued_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="requeues")
    # The job whose run enqueued this one (no constraint: a parent may be purged before its children).
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, db_constraint=False,
                               related_name="children")
    result = models.CharField(max_length=500, blank=True, help_text="the actor's own summary of its run")
    log = models.TextField(blank=True, help_text="its last attempt's log: every line if it failed, warnings and errors if it "
                                               "succeeded (at most NT_JOBS_LOG_CHARS)")
    updated_at = models.DateTimeField(auto_now=True)

    objects = JobQuerySet.as_manager()

    class Meta:
        ordering = ["-enqueued_at"]
        indexes = [
            models.Index(fields=["status", "enqueued_at"], name="job_status_enqueued_idx"),
            models.Index(fields=["actor", "status"], name="job_actor_status_idx"),
            models.Index(fields=["queue", "status"], name="job_queue_status_idx"),
            models.Index(fields=["finished_at"], name="job_finished_idx"),
        ]
        constraints = [
            # One live job per dedupe key, enforced by the database (a partial unique index).
            models.UniqueConstraint(fields=["dedupe_key"], condition=Q(status__in=LIVE_STATUSES),
                                    name="job_live_dedupe_key_unique"),
        ]

    def __str__(self):
        return f"{self.actor} {self.id[:8]} ({self.status})"

    @property
    def call_text(self) -> str:
        """The arguments as JSON values (what the admin shows; never a Python repr)."""
        args = [json.dumps(arg, default=str, ensure_ascii=False) for arg in self.args or []]
        kwargs = [f"{key}={json.dumps(value, default=str, ensure_ascii=False)}" for key, value in (self.kwargs or {}).items()]
        return ", ".join(args + kwargs)


class DeadLetter(Job):
    """The dead jobs, as their own admin list."""

    class Meta:
        proxy = True
        verbose_name = "dead letter"


class JobAttempt(models.Model):
    """A failed attempt of a job (retried, or the last before it died): kept as it was, so the next
    attempt overwrites nothing. The attempt that succeeded is on the job's own row."""

    class Outcome(models.TextChoices):
        RETRIED = "retried", "Failed, retried"
        DEAD = "dead", "Failed, gave up"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="failed_attempts")
    number = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    worker = models.CharField(max_length=200, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField()
    duration_ms = models.FloatField(null=True, blank=True)
    error_class = models.CharField(max_length=200, blank=True)
    error_message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    log = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "number", "id"]
        indexes = [models.Index(fields=["job", "number"], name="job_attempt_job_idx")]

    def __str__(self):
        return f"{self.job_id} attempt {self.number}: {self.outcome}"


class WorkerHeartbeat(models.Model):
    host = models.CharField(max_length=200)
    pid = models.PositiveIntegerField()
    queues = models.JSONField(default=list)
    current_jobs = models.JSONField(default=list, help_text="ids of the jobs it is running")
    started_at = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["host", "pid"], name="heartbeat_host_pid_unique")]
        ordering = ["-last_seen"]

    def __str__(self):
        return f"{self.host}:{self.pid}"

    @property
    def name(self) -> str:
        return f"{self.host}:{self.pid}"

    @property
    def queue_names(self) -> list[str]:
        """The queues it consumes, without Dramatiq's delay queues (<queue>.DQ) beside them."""
        return [queue for queue in self.queues if not queue.endswith((".DQ", ".XQ"))]

    def is_alive(self, now: datetime | None = None) -> bool:
        return ((now or timezone.now()) - self.last_seen).total_seconds() <= settings.JOBS_WORKER_DEAD_AFTER


def validate_cron(expression: str) -> None:
    from cronsim import CronSim, CronSimError

    try:
        CronSim(expression, timezone.now())
    except CronSimError as exc:
        raise ValidationError(f"not a valid cron expression: {exc}") from None


class Schedule(models.Model):
    name = models.CharField(max_length=100, unique=True)
    actor = models.CharField(max_length=100, help_text="the registered actor name, e.g. poll_due_sources")
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    cron = models.CharField(max_length=100, validators=[validate_cron], help_text="5 fields, UTC: */5 * * * *")
    enabled = models.BooleanField(default=True)
    next_run_at = models.DateTimeField(null=True, blank=True)
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["enabled", "next_run_at"], name="schedule_due_idx")]

    def __str__(self):
        return self.name

    def clean(self):
        if not is_registered(self.actor):
            raise ValidationError({"actor": f"no actor named {self.actor!r}"})
        if not isinstance(self.args, list):
            raise ValidationError({"args": "args must be a JSON list"})
        if not isinstance(self.kwargs, dict):
            raise ValidationError({"kwargs": "kwargs must be a JSON object"})

    def following_run(self, after: datetime) -> datetime:
        from cronsim import CronSim

        return next(CronSim(self.cron, after.astimezone(UTC)))


class OperatorAction(models.Model):
    """Audit log of what staff did to jobs and schedules."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=40)
    job_ids = models.JSONField(default=list, blank=True)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} {self.action}"
