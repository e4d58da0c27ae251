"""The project's broker (apps/jobs/broker.py) on real Redis: first deliveries marked per fetched batch,
acks deferred until the ledger row is committed, and never before."""

import threading
import time

import dramatiq
import pytest

from apps.jobs import delivery
from apps.jobs.enqueue import enqueue
from apps.jobs.ledger_writer import LedgerWriter, writer
from apps.jobs.models import Job
from tests.jobs import actors
from tests.jobs.conftest import drain

pytestmark = pytest.mark.django_db(transaction=True)


def _unacked(broker) -> int:
    client = broker.client
    return sum(client.scard(key) for key in client.scan_iter(f"{broker.namespace}:__acks__.*"))


def test_a_batch_of_jobs_all_succeed_are_all_acked_and_nothing_is_left_pending(redis_broker):
    ids = [enqueue("count_me", f"batch-{n}") for n in range(60)]
    drain(redis_broker)
    assert Job.objects.filter(pk__in=ids, status="succeeded").count() == 60
    assert sum(actors.calls(f"count_me:batch-{n}") for n in range(60)) == 60
    assert _unacked(redis_broker) == 0
    assert not any(job_id in delivery._answers for job_id in ids)  # every mark was used
    assert not writer._awaiting

    # A copy of a finished job's message (a dead worker's message given back) reads the row: not run again.
    redis_broker.enqueue(dramatiq.Message(queue_name="tests", actor_name="count_me", args=("batch-0",), kwargs={},
                                          options={}, message_id=ids[0]))
    drain(redis_broker)
    assert actors.calls("count_me:batch-0") == 1 and _unacked(redis_broker) == 0


def test_a_message_is_not_acked_before_its_row_is_committed(redis_broker, monkeypatch):
    gate, writing = threading.Event(), threading.Event()
    original = LedgerWriter._write

    def held_write(batch):
        writing.set()
        assert gate.wait(10)
        original(batch)

    monkeypatch.setattr(LedgerWriter, "_write", staticmethod(held_write))
    job_id = enqueue("count_me", "held")
    worker = dramatiq.Worker(redis_broker, worker_timeout=50, worker_threads=2)
    worker.start()
    try:
        assert writing.wait(10)  # the job ran; its row is being written
        assert actors.calls("count_me:held") == 1
        time.sleep(0.3)  # the worker thread has long returned: the message must still be unacked
        assert _unacked(redis_broker) == 1
        assert Job.objects.get(pk=job_id).status == "queued"
        gate.set()
        redis_broker.join("tests", timeout=10_000)
        worker.join()
    finally:
        gate.set()
        worker.stop()
    assert _unacked(redis_broker) == 0
    assert Job.objects.get(pk=job_id).status == "succeeded"


def test_a_failing_delivery_mark_loses_no_message(redis_broker, monkeypatch):
    def broken(ids):
        raise ConnectionError("cache down")

    monkeypatch.setattr(delivery, "mark", broken)
    job_id = enqueue("count_me", "unmarked")
    drain(redis_broker)
    assert actors.calls("count_me:unmarked") == 1 and Job.objects.get(pk=job_id).status == "succeeded"
    assert _unacked(redis_broker) == 0
