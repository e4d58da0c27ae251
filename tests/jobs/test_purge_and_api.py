from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.jobs.enqueue import enqueue
from apps.jobs.models import Job, OperatorAction

pytestmark = pytest.mark.django_db(transaction=True)


def _job(status, days_ago, **fields):
    finished = timezone.now() - timedelta(days=days_ago)
    return Job.objects.create(id=f"{status}-{days_ago}", actor="count_me", queue="tests", status=status,
                              finished_at=finished, **fields)


def test_purge_keeps_recent_and_dead_longer(capsys):
    keep = [_job("succeeded", 6), _job("dead", 89), _job("queued", 30)]
    _job("succeeded", 8), _job("discarded", 8), _job("dead", 91)
    call_command("purge_jobs")
    assert "Purged 2 finished and 1 dead job(s)." in capsys.readouterr().out
    assert set(Job.objects.values_list("id", flat=True)) == {job.pk for job in keep}


def test_stats_are_staff_only(client, viewer, admin_user, broker):
    enqueue("count_me", "x")
    client.force_login(viewer)
    assert client.get("/api/v1/jobs/stats").status_code == 403
    client.force_login(admin_user)
    body = client.get("/api/v1/jobs/stats").json()
    assert body["by_status"]["queued"] == 1 and body["by_queue"]["tests"]["queued"] == 1
    assert body["oldest_queued_age_seconds"] >= 0 and body["dead"] == 0


def test_dead_letters_and_requeue(client, admin_user, broker, run_jobs):
    job_id = enqueue("always_fails", "x")
    run_jobs()
    client.force_login(admin_user)
    dead = client.get("/api/v1/jobs/dead/").json()["results"]
    assert [d["id"] for d in dead] == [job_id] and "boom for x" in dead[0]["traceback"]
    response = client.post(f"/api/v1/jobs/{job_id}/requeue/")
    assert response.status_code == 202
    new = Job.objects.get(pk=response.json()["job_id"])
    assert new.requeued_from_id == job_id and OperatorAction.objects.get().action == "requeue"
    assert client.post("/api/v1/jobs/nope/requeue/").status_code == 404


def test_requeue_is_403_for_non_staff_and_401_anonymous(client, analyst):
    assert client.post("/api/v1/jobs/x/requeue/").status_code == 401
    client.force_login(analyst)
    assert client.post("/api/v1/jobs/x/requeue/").status_code == 403


def test_requeue_dead_command_filters(broker, run_jobs, capsys):
    enqueue("always_fails", "a")
    enqueue("permanent", "b")
    run_jobs()
    call_command("requeue_dead", "--actor", "always_fails", "--dry-run")
    assert "1 dead letter(s) match." in capsys.readouterr().out
    assert Job.objects.filter(requeued_from__isnull=False).count() == 0
    call_command("requeue_dead", "--error", "PermanentError")
    assert "Requeued 1 job(s)." in capsys.readouterr().out
    assert Job.objects.get(requeued_from__isnull=False).actor == "permanent"


def test_prometheus_gauges(client, broker, run_jobs):
    enqueue("count_me", "m")
    enqueue("always_fails", "m")
    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'newstunneler_jobs{queue="tests",status="queued"} 2.0' in body
    run_jobs()
    body = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'newstunneler_jobs{queue="tests",status="succeeded"} 1.0' in body
    assert "newstunneler_dead_letters 1.0" in body
    assert 'newstunneler_job_outcomes_total{actor="always_fails",outcome="dead"}' in body
