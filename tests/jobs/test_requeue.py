"""Requeue: dead, discarded and skipped jobs freely; queued, retrying, running and succeeded ones only when
forced (service, API, admin, command), and the dedupe key moves to the new job."""

import pytest
from django.core.management import CommandError, call_command

from apps.jobs import services
from apps.jobs.enqueue import enqueue
from apps.jobs.models import Job

pytestmark = pytest.mark.django_db(transaction=True)


def _job(status: str, label: str, dedupe_key: str | None = None) -> Job:
    job_id = enqueue("count_me", label, dedupe_key=dedupe_key)
    Job.objects.filter(pk=job_id).update(status=status, worker="elsewhere:1" if status == "running" else "")
    return Job.objects.get(pk=job_id)


@pytest.mark.parametrize("status", ["running", "succeeded", "queued", "retrying"])
def test_live_and_succeeded_jobs_are_refused_unless_forced(broker, status):
    job = _job(status, status)
    with pytest.raises(services.RequeueRefused, match=f"are {status}: requeueing would run them again"):
        services.job_requeue(jobs=[job])
    assert not Job.objects.filter(requeued_from=job).exists()
    (new_id,) = services.job_requeue(jobs=[job], force=True)
    assert Job.objects.get(pk=new_id).requeued_from_id == job.pk
    assert "forced" in services.OperatorAction.objects.get().detail


def test_refusal_requeues_nothing_of_a_mixed_batch(broker):
    dead, running = _job("dead", "d"), _job("running", "r")
    with pytest.raises(services.RequeueRefused):
        services.job_requeue(jobs=[dead, running])
    assert Job.objects.filter(requeued_from__isnull=False).count() == 0


def test_the_new_job_holds_the_dedupe_key_and_the_old_gives_it_up(broker):
    dead = _job("dead", "k", dedupe_key="poll:7")
    (new_id,) = services.job_requeue(jobs=[dead])
    assert Job.objects.get(pk=new_id).dedupe_key == "poll:7"
    assert Job.objects.get(pk=dead.pk).dedupe_key is None
    assert enqueue("count_me", "again", dedupe_key="poll:7") == new_id  # one live job per key


def test_forcing_a_running_job_moves_its_dedupe_key_to_the_new_one(broker):
    running = _job("running", "stuck", dedupe_key="schedule:3")
    (new_id,) = services.job_requeue(jobs=[running], force=True)
    assert new_id != running.pk
    assert Job.objects.get(pk=new_id).dedupe_key == "schedule:3"
    old = Job.objects.get(pk=running.pk)
    assert (old.status, old.dedupe_key) == ("running", None)  # it may still finish; it no longer holds the key


def test_api_answers_409_unless_forced(client, admin_user, broker):
    job = _job("succeeded", "api")
    client.force_login(admin_user)
    refused = client.post(f"/api/v1/jobs/{job.pk}/requeue/")
    assert refused.status_code == 409
    assert refused.json() == {"detail": f"Job {job.pk} is succeeded: requeueing would run it again beside that. "
                                        "Send force=true to requeue it anyway.", "code": "needs_force"}
    forced = client.post(f"/api/v1/jobs/{job.pk}/requeue/", {"force": True}, content_type="application/json")
    assert forced.status_code == 202 and forced.json()["requeued_from"] == job.pk
    bad = client.post(f"/api/v1/jobs/{job.pk}/requeue/", {"force": "maybe"}, content_type="application/json")
    assert bad.status_code == 400 and "force" in bad.json()["errors"]


def test_admin_confirmation_says_plainly_and_requeues_them_only_when_ticked(admin_client, broker):
    dead, running = _job("dead", "d"), _job("running", "r")
    selected = {"action": "requeue_jobs", "_selected_action": [dead.pk, running.pk]}
    page = admin_client.post("/admin/jobs/job/", selected).content.decode()
    assert "1 of these job(s) are not dead" in page and "Force: requeue these 1 job(s) too" in page
    assert f"{running.actor} is <strong>running</strong>" in page
    done = admin_client.post("/admin/jobs/job/", {**selected, "confirm": "yes"}, follow=True).content.decode()
    assert "Requeue: 1 of 2 job(s)." in done and "1 job(s) not requeued" in done
    assert list(Job.objects.filter(requeued_from__isnull=False).values_list("requeued_from", flat=True)) == [dead.pk]
    admin_client.post("/admin/jobs/job/", {"action": "requeue_jobs", "_selected_action": [running.pk],
                                           "confirm": "yes", "force": "yes"})
    assert Job.objects.filter(requeued_from=running).count() == 1


def test_command_refuses_named_live_jobs_without_force(broker, capsys):
    job = _job("succeeded", "cmd")
    with pytest.raises(CommandError, match="1 job\\(s\\) are not dead.*Add --force"):
        call_command("requeue_dead", "--job", job.pk)
    assert not Job.objects.filter(requeued_from=job).exists()
    call_command("requeue_dead", "--job", job.pk, "--force")
    assert "Requeued 1 job(s)." in capsys.readouterr().out
    assert Job.objects.filter(requeued_from=job).count() == 1
    with pytest.raises(CommandError, match="no job with id nope"):
        call_command("requeue_dead", "--job", "nope")
