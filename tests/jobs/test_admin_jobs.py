"""Staff operating jobs in the admin, through the test client as a browser would."""

import pytest

from apps.jobs.enqueue import enqueue
from apps.jobs.models import Job, OperatorAction
from tests.jobs import actors

pytestmark = pytest.mark.django_db(transaction=True)

XSS = "<script>alert(1)</script>"


def _dead(broker, run_jobs, label=XSS):
    job_id = enqueue("always_fails", label)
    run_jobs()
    job = Job.objects.get(pk=job_id)
    assert job.status == "dead"
    return job


def test_requeue_needs_confirmation_then_runs_again_and_succeeds(admin_client, broker, worker, run_jobs):
    job_id = enqueue("permanent", "once")
    run_jobs()
    dead = Job.objects.get(pk=job_id)
    assert dead.status == "dead"
    # make the actor succeed this time, as a fix deployed before requeueing would
    actors.permanent.fn, original = (lambda label: actors._count("permanent-fixed")), actors.permanent.fn
    try:
        page = admin_client.post("/admin/jobs/deadletter/", {"action": "requeue_jobs", "_selected_action": [job_id]})
        assert page.status_code == 200 and "Yes, requeue" in page.content.decode()
        assert Job.objects.count() == 1  # nothing happened before confirming
        done = admin_client.post("/admin/jobs/deadletter/", {
            "action": "requeue_jobs", "_selected_action": [job_id], "confirm": "yes"}, follow=True)
        assert "Requeue: 1 of 1 job(s)." in done.content.decode()
        run_jobs()
    finally:
        actors.permanent.fn = original
    new = Job.objects.get(requeued_from_id=job_id)
    assert new.status == "succeeded" and actors.calls("permanent-fixed") == 1
    assert Job.objects.get(pk=job_id).status == "discarded"
    (entry,) = OperatorAction.objects.all()
    assert (entry.action, entry.job_ids, entry.user.username) == ("requeue", [job_id], "alice-admin")


def test_discard_and_delete_are_confirmed_and_audited(admin_client, broker, worker, run_jobs):
    job = _dead(broker, run_jobs, "one")
    admin_client.post("/admin/jobs/job/", {"action": "discard_jobs", "_selected_action": [job.pk], "confirm": "yes"})
    assert Job.objects.get(pk=job.pk).status == "discarded"
    admin_client.post("/admin/jobs/job/", {"action": "delete_jobs", "_selected_action": [job.pk], "confirm": "yes"})
    assert not Job.objects.filter(pk=job.pk).exists()
    assert list(OperatorAction.objects.order_by("at").values_list("action", flat=True)) == ["discard", "delete"]


def test_job_arguments_and_tracebacks_are_escaped(admin_client, broker, worker, run_jobs):
    job = _dead(broker, run_jobs)
    for url in ["/admin/jobs/job/", "/admin/jobs/deadletter/", f"/admin/jobs/job/{job.pk}/change/",
                f"/admin/jobs/deadletter/{job.pk}/change/"]:
        html = admin_client.get(url).content.decode()
        assert XSS not in html, url
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url
    detail = admin_client.get(f"/admin/jobs/job/{job.pk}/change/").content.decode()
    assert "<pre" in detail and "Traceback (most recent call last)" in detail


def test_filters_search_and_dashboard(admin_client, broker, worker, run_jobs):
    _dead(broker, run_jobs, "needle-123")
    enqueue("count_me", "fine")
    run_jobs()
    for url in ["/admin/jobs/job/?status=dead", "/admin/jobs/job/?actor=always_fails", "/admin/jobs/job/?queue=tests",
                "/admin/jobs/job/?error_class=RuntimeError"]:
        assert admin_client.get(url).status_code == 200, url
    found = admin_client.get("/admin/jobs/job/?q=needle-123").content.decode()
    assert 'field-args_short"><span title="&quot;needle-123&quot;">&quot;needle-123&quot;</span>' in found
    assert "&quot;fine&quot;" not in found
    old_dashboard = admin_client.get("/admin/jobs/job/dashboard/")  # README's old address: the overview replaced it
    assert old_dashboard.status_code == 302 and old_dashboard["Location"] == "/admin/#nt-overview"
    index = admin_client.get("/admin/").content.decode()
    assert "Overview" in index and 'data-queue="tests"' in index and "Live workers (1)" in index


def test_non_staff_cannot_reach_jobs(client, analyst, broker):
    client.force_login(analyst)
    for url in ["/admin/jobs/job/", "/admin/jobs/job/dashboard/", "/admin/jobs/deadletter/"]:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert client.post("/admin/jobs/job/", {"action": "delete_jobs", "confirm": "yes"}).status_code == 302
