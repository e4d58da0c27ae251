"""Schedules: cron validation, firing once per due run (also with several schedulers), admin edits audited."""

import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import close_old_connections, connection
from django.utils import timezone

from apps.jobs import services
from apps.jobs.models import Job, OperatorAction, Schedule

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.django_db(transaction=False)  # runs before transactional tests flush the migration's rows
def test_seeded_schedules_exist():
    assert set(Schedule.objects.values_list("actor", "cron")) >= {
        ("poll_due_sources", "*/5 * * * *"), ("retention_cleanup", "0 0 * * *"), ("purge_jobs", "30 0 * * *")}
    # the scheduler reconciles by itself: a scheduled reconcile lost with the broker blocked later ones
    assert not Schedule.objects.filter(actor="reconcile_jobs").exists()


def test_following_run_is_utc_cron():
    schedule = Schedule(name="x", actor="count_me", cron="0 8 * * 1")
    assert schedule.following_run(datetime(2026, 11, 22, 12, 0, tzinfo=UTC)) == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def test_due_schedule_fires_once_and_moves_on(broker):
    Schedule.objects.all().delete()
    schedule = Schedule.objects.create(name="tick", actor="count_me", args=["s"], cron="*/5 * * * *",
                                       next_run_at=timezone.now() - timedelta(seconds=1))
    (job_id,) = services.schedule_fire_due()
    assert services.schedule_fire_due() == []
    schedule.refresh_from_db()
    assert schedule.last_job_id == job_id and schedule.next_run_at > timezone.now()
    assert Job.objects.get(pk=job_id).args == ["s"]
    # the run's own trace id, on the row (and in the message, for the jobs it starts)
    assert re.fullmatch(r"schedule-tick-\d{8}T\d{6}", Job.objects.get(pk=job_id).request_id)


def test_disabled_schedule_does_not_fire(broker):
    Schedule.objects.update(enabled=False)
    Schedule.objects.create(name="off", actor="count_me", args=["x"], cron="* * * * *", enabled=False,
                            next_run_at=timezone.now() - timedelta(minutes=1))
    assert services.schedule_fire_due() == []


def test_two_schedulers_fire_one_job_per_due_run(broker):
    Schedule.objects.all().delete()
    for n in range(5):
        Schedule.objects.create(name=f"s{n}", actor="count_me", args=[f"s{n}"], cron="* * * * *",
                                next_run_at=timezone.now() - timedelta(seconds=5))
    barrier, fired, errors = threading.Barrier(2), [], []

    def scheduler():
        try:
            barrier.wait()
            fired.extend(services.schedule_fire_due())
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    assert errors == []
    assert len(fired) == 5 == len(set(fired)) == Job.objects.count()


def test_bad_cron_is_a_form_error_in_the_admin(admin_client):
    response = admin_client.post("/admin/jobs/schedule/add/", {
        "name": "broken", "actor": "count_me", "args": "[]", "kwargs": "{}", "cron": "61 * * * *", "enabled": "on"})
    assert response.status_code == 200
    assert "not a valid cron expression" in response.content.decode()
    assert not Schedule.objects.filter(name="broken").exists()


def test_unknown_actor_is_a_form_error(admin_client):
    response = admin_client.post("/admin/jobs/schedule/add/", {
        "name": "typo", "actor": "pol_due_sources", "args": "[]", "kwargs": "{}", "cron": "* * * * *"})
    assert "no actor named &#x27;pol_due_sources&#x27;" in response.content.decode()


def test_admin_edit_reschedules_and_is_audited(admin_client):
    schedule, _ = Schedule.objects.get_or_create(name="poll feeds", defaults={"actor": "poll_due_sources", "cron": "*/5 * * * *"})
    response = admin_client.post(f"/admin/jobs/schedule/{schedule.pk}/change/", {
        "name": "poll feeds", "actor": "poll_due_sources", "args": "[]", "kwargs": "{}", "cron": "0 * * * *",
        "enabled": "on"})
    assert response.status_code == 302
    schedule.refresh_from_db()
    assert schedule.cron == "0 * * * *" and schedule.next_run_at.minute == 0
    entry = OperatorAction.objects.get(action="schedule_edit")
    assert entry.user.username == "alice-admin" and "'0 * * * *'" in entry.detail
    admin_client.post(f"/admin/jobs/schedule/{schedule.pk}/delete/", {"post": "yes"})
    assert OperatorAction.objects.filter(action="schedule_delete").exists()


def test_run_scheduler_fires_due_schedules(broker):
    from django.core.management import call_command

    Schedule.objects.all().delete()
    Schedule.objects.create(name="now", actor="count_me", args=["cmd"], cron="* * * * *",
                            next_run_at=timezone.now() - timedelta(seconds=1))
    call_command("run_scheduler", "--once", "--interval", "0.01")
    assert Job.objects.filter(actor="count_me", args=["cmd"]).count() == 1


def test_run_now_and_bulk_enable_disable_from_the_admin_are_audited(admin_client, broker):
    a = Schedule.objects.create(name="a", actor="count_me", args=["a"], cron="0 3 * * *", enabled=True,
                                next_run_at=timezone.now() + timedelta(hours=5))
    b = Schedule.objects.create(name="b", actor="count_me", args=["b"], cron="0 4 * * *", enabled=False)
    next_run = a.next_run_at
    done = admin_client.post("/admin/jobs/schedule/", {"action": "run_now", "_selected_action": [a.pk]}, follow=True)
    a.refresh_from_db()
    assert a.last_job_id and Job.objects.get(pk=a.last_job_id).args == ["a"]
    assert f"a (job {a.last_job_id[:8]})" in done.content.decode()
    assert a.next_run_at == next_run  # its cron times are untouched
    admin_client.post("/admin/jobs/schedule/", {"action": "enable", "_selected_action": [a.pk, b.pk]})
    b.refresh_from_db()
    assert b.enabled and b.next_run_at is not None
    admin_client.post("/admin/jobs/schedule/", {"action": "disable", "_selected_action": [a.pk, b.pk]})
    assert not Schedule.objects.filter(pk__in=[a.pk, b.pk], enabled=True).exists()
    assert list(OperatorAction.objects.order_by("at", "id").values_list("action", "detail")) == [
        ("schedule_run_now", f"run now: a -> {a.last_job_id[:8]}"), ("schedule_enable", "b"),
        ("schedule_disable", "a, b")]
