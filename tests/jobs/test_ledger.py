"""The job ledger through a real worker: states, the retry policy, dead letters, dedupe, skips."""

import dramatiq
import pytest
from django.core.cache import cache

from apps.jobs.enqueue import enqueue
from apps.jobs.models import Job
from tests.jobs import actors  # noqa: F401  (declares the test actors)

pytestmark = pytest.mark.django_db(transaction=True)


def test_success_is_recorded(broker, worker, run_jobs):
    job_id = enqueue("count_me", "a")
    assert Job.objects.get(pk=job_id).status == "queued"
    run_jobs()
    job = Job.objects.get(pk=job_id)
    assert (job.status, job.attempts, job.queue, job.args) == ("succeeded", 1, "tests", ["a"])
    assert job.started_at <= job.finished_at and job.duration_ms >= 0 and ":" in job.worker
    assert actors.calls("count_me:a") == 1


def test_failing_job_retries_within_its_policy_then_dies_with_its_traceback(broker, worker, run_jobs):
    job_id = enqueue("always_fails", "<x>")
    run_jobs()
    job = Job.objects.get(pk=job_id)
    assert job.status == "dead"
    assert job.attempts == 3 == actors.calls("always_fails")  # 1 try + max_retries=2
    assert job.error_class == "RuntimeError" and job.error_message == "boom for <x>"
    assert "Traceback (most recent call last)" in job.traceback and 'raise RuntimeError(f"boom for {label}")' in job.traceback
    assert [m.message_id for m in broker.dead_letters] == [job_id]


def test_transient_failures_end_in_success(broker, worker, run_jobs):
    job_id = enqueue("fails_until_allowed", "x")
    for _ in range(50):  # let it fail at least once, then allow it
        if actors.calls("fails_until_allowed") >= 1:
            break
        import time; time.sleep(0.02)  # noqa: E702
    cache.set("allow", True)
    run_jobs()
    job = Job.objects.get(pk=job_id)
    assert job.status == "succeeded" and job.attempts >= 2
    assert job.error_class == "ConnectionError"  # the last failure stays visible


def test_permanent_errors_never_retry(broker, worker, run_jobs):
    job_id = enqueue("permanent", "x")
    run_jobs()
    job = Job.objects.get(pk=job_id)
    assert (job.status, job.attempts, actors.calls("permanent")) == ("dead", 1, 1)
    assert job.error_class == "apps.jobs.errors.PermanentError"


def test_dedupe_key_refuses_a_second_live_job(broker):
    first = enqueue("count_me", "a", dedupe_key="daily-report")
    second = enqueue("count_me", "b", dedupe_key="daily-report")
    assert first == second
    assert Job.objects.filter(dedupe_key="daily-report").count() == 1
    assert broker.queues["tests"].qsize() == 1


def test_dedupe_key_is_free_again_once_the_job_finished(broker, worker, run_jobs):
    first = enqueue("count_me", "a", dedupe_key="k")
    run_jobs()
    second = enqueue("count_me", "a", dedupe_key="k")
    assert second != first
    run_jobs()
    assert actors.calls("count_me:a") == 2


def test_discarded_job_is_skipped_when_its_message_arrives(broker, run_jobs):
    from apps.jobs.services import job_discard

    job_id = enqueue("count_me", "d")
    job_discard(jobs=[Job.objects.get(pk=job_id)])
    run_jobs()
    assert Job.objects.get(pk=job_id).status == "discarded"
    assert actors.calls("count_me:d") == 0


def test_a_message_sent_around_the_ledger_is_recorded(broker, worker, run_jobs):
    message = actors.count_me.send("raw")
    run_jobs()
    job = Job.objects.get(pk=message.message_id)
    assert (job.status, job.actor, job.args) == ("succeeded", "count_me", ["raw"])


def test_rolled_back_work_is_never_sent(broker):
    from django.db import transaction

    with pytest.raises(RuntimeError):
        with transaction.atomic():
            enqueue("count_me", "never")
            raise RuntimeError("caller failed")
    assert not Job.objects.exists() and broker.queues["tests"].qsize() == 0


def test_request_id_is_recorded(broker, client, admin_user):
    from newstunneler.middleware import current_request_id  # noqa: F401
    import structlog

    structlog.contextvars.bind_contextvars(request_id="req-7")
    try:
        job_id = enqueue("count_me", "r")
    finally:
        structlog.contextvars.clear_contextvars()
    assert Job.objects.get(pk=job_id).request_id == "req-7"


def test_a_second_delivery_of_a_finished_job_reads_its_row_and_is_skipped(broker, worker, run_jobs):
    """The first delivery runs without reading the ledger; a copy that comes later (a dead worker's
    message given back after the job was committed but not acked) reads it and does not run again."""
    job_id = enqueue("count_me", "twice")
    run_jobs()
    broker.enqueue(dramatiq.Message(queue_name="tests", actor_name="count_me", args=("twice",), kwargs={},
                                    options={}, message_id=job_id))
    run_jobs()
    assert actors.calls("count_me:twice") == 1 and Job.objects.get(pk=job_id).status == "succeeded"


def test_the_final_write_is_the_claim_an_ended_job_keeps_its_state(caplog):
    """A copy that ran while the job was discarded (or finished by another copy) does not overwrite it."""
    from django.utils import timezone

    from apps.jobs.ledger_writer import Finished, writer

    job_id = enqueue("count_me", "late")
    Job.objects.filter(pk=job_id).update(status="discarded")
    now = timezone.now()
    writer.finish(Finished(job_id=job_id, started_at=now, finished_at=now, duration_ms=1.0, attempts=1, worker="w:1"))
    assert Job.objects.get(pk=job_id).status == "discarded"
    assert "job_finished_again" in caplog.text
    other = enqueue("count_me", "live")
    writer.finish(Finished(job_id=other, started_at=now, finished_at=now, duration_ms=1.0, attempts=1, worker="w:1"))
    assert Job.objects.get(pk=other).status == "succeeded"
