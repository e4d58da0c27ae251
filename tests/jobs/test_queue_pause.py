"""Pausing a queue holds its messages in order on the real Redis broker; resuming runs them as queued.
Through the service, the admin's overview buttons and the API, every action audited."""

import time

import dramatiq
import pytest
from django.core.cache import cache

from apps.jobs import queues
from apps.jobs.enqueue import enqueue
from apps.jobs.models import Job, JobStatus, OperatorAction
from tests.jobs import actors

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def one_thread_worker(redis_broker):
    redis_broker.declare(actors.record_order)
    worker = dramatiq.Worker(redis_broker, worker_timeout=50, worker_threads=1)
    worker.start()
    yield redis_broker
    worker.stop()


def _wait(condition, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_a_paused_queue_holds_its_messages_in_order_and_runs_them_on_resume(one_thread_worker, admin_user):
    cache.delete("run-order")
    assert queues.queue_pause(queue="tests", user=admin_user) is True
    assert queues.queue_pause(queue="tests", user=admin_user) is False  # already paused: nothing changes
    time.sleep(1.2)  # the worker's consumer notices within a second
    ids = [enqueue("record_order", f"m{n}") for n in range(5)]
    time.sleep(2.5)
    assert cache.get("run-order") is None  # held, not run
    assert Job.objects.filter(pk__in=ids, status=JobStatus.QUEUED).count() == 5  # and not skipped
    assert "tests" in queues.paused_queues()
    queues.queue_resume(queue="tests", user=admin_user)
    assert _wait(lambda: len(cache.get("run-order", [])) == 5)
    assert cache.get("run-order") == ["m0", "m1", "m2", "m3", "m4"]  # in the order they were queued
    assert _wait(lambda: Job.objects.filter(pk__in=ids, status=JobStatus.SUCCEEDED).count() == 5)
    assert list(OperatorAction.objects.order_by("at").values_list("action", flat=True)) == ["queue_pause", "queue_resume"]


def test_the_overview_shows_the_state_and_its_buttons_pause_and_resume(redis_broker, admin_client):
    html = admin_client.get("/admin/overview/").content.decode()
    assert 'data-queue="tests" data-paused="no"' in html
    response = admin_client.post("/admin/jobs/job/queues/tests/pause/", follow=True)
    assert "Queue tests paused: its messages are held until you resume it." in response.content.decode()
    assert 'data-queue="tests" data-paused="yes"' in admin_client.get("/admin/overview/").content.decode()
    admin_client.post("/admin/jobs/job/queues/tests/resume/")
    assert queues.paused_queues() == set()
    refused = admin_client.post("/admin/jobs/job/queues/nope/pause/", follow=True).content.decode()
    assert "No queue named &#x27;nope&#x27; (queues: " in refused  # (the admin capitalises messages)


def test_the_api_pauses_resumes_and_lists_queues(redis_broker, admin_client, analyst):
    from django.test import Client

    outsider = Client()
    outsider.force_login(analyst)
    assert outsider.post("/api/v1/jobs/queues/tests/pause/").status_code == 403  # staff only
    assert admin_client.post("/api/v1/jobs/queues/tests/pause/").json() == {"queue": "tests", "paused": True,
                                                                           "changed": True}
    listed = {q["queue"]: q for q in admin_client.get("/api/v1/jobs/queues/").json()["queues"]}
    assert listed["tests"]["paused"] is True
    assert admin_client.get("/api/v1/jobs/stats").json()["paused_queues"] == ["tests"]
    assert admin_client.post("/api/v1/jobs/queues/tests/resume/").json()["paused"] is False
    missing = admin_client.post("/api/v1/jobs/queues/nope/pause/")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


def test_the_stub_broker_refuses_to_pause_with_a_reason(admin_user):
    with pytest.raises(queues.QueueControlError, match="cannot hold a queue's messages"):
        queues.queue_pause(queue="tests", user=admin_user)
