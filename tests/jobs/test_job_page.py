"""A job's own page: every attempt kept (worker, start, duration, error, traceback, log), the actor's
result summary, the jobs it started and the one that started it; and the request id handed down."""

import re

import pytest

from apps.jobs.enqueue import enqueue
from apps.jobs.models import Job, JobAttempt, JobStatus
from tests.jobs import actors  # noqa: F401 - registers the test actors

pytestmark = pytest.mark.django_db(transaction=True)


def test_attempts_result_log_and_children_are_kept_and_shown(admin_client, broker, worker, run_jobs):
    job_id = enqueue("flaky_parent", "acme")
    run_jobs()
    job = Job.objects.get(pk=job_id)
    assert (job.status, job.attempts, job.result) == (JobStatus.SUCCEEDED, 2, "2 children started for acme")
    # a succeeded attempt keeps its warnings and errors only; a failed one every line
    assert "flaky_parent_upstream_slow" in job.log and "attempt=2" in job.log
    assert "flaky_parent_working" not in job.log
    assert "Results middleware" not in job.log  # Dramatiq's "return value discarded": the ledger keeps it
    (failed,) = JobAttempt.objects.filter(job=job)  # the first attempt, as it was
    assert (failed.number, failed.outcome, failed.error_class) == (1, "retried", "ConnectionError")
    assert "upstream refused acme on attempt 1" in failed.error_message and "Traceback" in failed.traceback
    assert "flaky_parent_working" in failed.log and "attempt=1" in failed.log
    assert failed.worker and failed.duration_ms is not None
    children = list(Job.objects.filter(parent=job).order_by("args"))
    assert [c.args for c in children] == [["acme-child-1"], ["acme-child-2"]]
    assert all(c.status == JobStatus.SUCCEEDED for c in children)

    page = admin_client.get(f"/admin/jobs/job/{job_id}/change/").content.decode()
    timeline = re.search(r'<table class="nt-table" id="job-timeline">.*?</table>', page, re.S).group(0)
    outcomes = re.findall(r'<tr class="attempt"><td>(\d+)</td><td>([^<]*)</td>', timeline)
    assert outcomes == [("1", "Failed, retried"), ("2", "Succeeded")]
    assert "upstream refused acme on attempt 1" in timeline and "2 children started for acme" in timeline
    assert page.count("/admin/jobs/job/") >= 2 and "count_me" in page  # links to the children
    child_page = admin_client.get(f"/admin/jobs/job/{children[0].pk}/change/").content.decode()
    assert f"/admin/jobs/job/{job_id}/change/" in child_page  # and back to its parent


def test_a_job_hands_its_request_id_to_the_jobs_it_starts(broker, worker, run_jobs):
    import structlog

    structlog.contextvars.bind_contextvars(request_id="req-from-the-api")  # as the web middleware binds it
    try:
        caused = enqueue("flaky_parent", "caused")
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    scheduled = enqueue("flaky_parent", "scheduled")  # outside any request: the job's run gets an id of its own
    run_jobs()
    assert {c.request_id for c in Job.objects.filter(parent_id=caused)} == {"req-from-the-api"}
    assert {c.request_id for c in Job.objects.filter(parent_id=scheduled)} == {f"job-{scheduled[:12]}"}
    # the rows say so too: the admin's search by request id finds the whole tree
    assert Job.objects.get(pk=caused).request_id == "req-from-the-api"
    assert Job.objects.filter(request_id=f"job-{scheduled[:12]}").count() == 3  # the job and its two children
    assert "request_id=req-from-the-api" in Job.objects.get(pk=caused).log  # its log lines carry it too


def test_a_dead_jobs_attempts_are_all_there(admin_client, broker, worker, run_jobs):
    job_id = enqueue("always_fails", "thrice")
    run_jobs()
    attempts = list(JobAttempt.objects.filter(job_id=job_id).values_list("number", "outcome"))
    assert attempts == [(1, "retried"), (2, "retried"), (3, "dead")]
    page = admin_client.get(f"/admin/jobs/job/{job_id}/change/").content.decode()
    assert page.count('<tr class="attempt">') == 3 and "Failed, gave up" in page
