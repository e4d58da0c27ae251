"""The reconciler re-sends jobs whose message was lost, and never one that is still in the broker."""

import os
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from dramatiq.brokers.redis import RedisBroker

from apps.jobs import services
from apps.jobs.enqueue import enqueue
from apps.jobs.models import Job, WorkerHeartbeat
from tests.jobs import actors
from tests.jobs.conftest import drain

pytestmark = pytest.mark.django_db(transaction=True)


def _age(job_id, seconds=120):
    Job.objects.filter(pk=job_id).update(updated_at=timezone.now() - timedelta(seconds=seconds))


def test_lost_queued_message_is_resent_and_runs_once(broker, run_jobs):
    job_id = enqueue("count_me", "lost")
    broker.flush_all()  # the broker lost it (Redis flushed or restarted)
    _age(job_id)
    result = services.jobs_reconcile()
    assert result.resent == [job_id]
    run_jobs()
    assert Job.objects.get(pk=job_id).status == "succeeded"
    assert actors.calls("count_me:lost") == 1


def test_message_still_in_the_broker_is_left_alone(broker):
    job_id = enqueue("count_me", "waiting")
    _age(job_id)
    assert services.jobs_reconcile().resent == []
    assert broker.queues["tests"].qsize() == 1


def test_recent_jobs_get_a_grace_period(broker):
    enqueue("count_me", "fresh")
    broker.flush_all()
    assert services.jobs_reconcile().resent == []


def test_running_job_of_a_dead_worker_is_resent_but_not_of_a_live_one(broker, run_jobs):
    dead_id, live_id = enqueue("count_me", "orphan"), enqueue("count_me", "busy")
    broker.flush_all()
    WorkerHeartbeat.objects.create(host="gone", pid=1, last_seen=timezone.now() - timedelta(minutes=10))
    WorkerHeartbeat.objects.create(host="alive", pid=2, last_seen=timezone.now())
    Job.objects.filter(pk=dead_id).update(status="running", worker="gone:1", attempts=1)
    Job.objects.filter(pk=live_id).update(status="running", worker="alive:2", attempts=1)
    _age(dead_id), _age(live_id)
    assert services.jobs_reconcile().resent == [dead_id]
    run_jobs()
    assert Job.objects.get(pk=dead_id).status == "succeeded"
    assert Job.objects.get(pk=live_id).status == "running"


def test_command(broker, capsys):
    job_id = enqueue("count_me", "cmd")
    broker.flush_all()
    _age(job_id)
    call_command("reconcile_jobs")
    assert f"re-sent {job_id}" in capsys.readouterr().out


def test_flushall_then_reconcile_completes_exactly_once_on_real_redis(redis_broker):
    job_id = enqueue("count_me", "flushed")
    client = redis_broker.client
    assert any(client.hlen(key) for key in client.keys("nt-test-dramatiq:*.msgs"))
    # CI's Redis is ours alone: flush everything there; elsewhere only this mode's database.
    client.flushall() if os.environ.get("CI") == "true" else client.flushdb()
    _age(job_id)
    assert services.jobs_reconcile(broker=redis_broker).resent == [job_id]
    assert services.jobs_reconcile(broker=redis_broker, now=timezone.now() + timedelta(minutes=5)).resent == []
    drain(redis_broker)
    assert Job.objects.get(pk=job_id).status == "succeeded"
    assert actors.calls("count_me:flushed") == 1


def test_a_job_of_an_unknown_actor_ends_dead_and_the_rest_are_still_resent(broker, run_jobs, capsys):
    ghost, lost = enqueue("count_me", "ghost"), enqueue("count_me", "lost")
    Job.objects.filter(pk=ghost).update(actor="renamed_long_ago")
    broker.flush_all()
    _age(ghost), _age(lost)
    call_command("reconcile_jobs")
    out = capsys.readouterr().out
    assert f"re-sent {lost}" in out and f"dead (actor not registered) {ghost}" in out
    job = Job.objects.get(pk=ghost)
    assert (job.status, job.error_class) == ("dead", "ActorNotFound")
    assert job.error_message == "actor 'renamed_long_ago' is not registered (renamed or removed?)"
    run_jobs()
    assert Job.objects.get(pk=lost).status == "succeeded" and actors.calls("count_me:lost") == 1


def test_messages_held_by_a_dead_worker_go_back_to_their_queue_and_run(redis_broker_factory):
    broker = redis_broker_factory(heartbeat_timeout=2000)
    broker.declare(actors.count_me)
    ids = [enqueue("count_me", f"held-{n}") for n in range(3)]
    # Another worker process fetches them (into its ack set) and is killed before acking any.
    doomed = RedisBroker(url=settings.REDIS_LOCATION, namespace=broker.namespace, middleware=[])
    assert len(doomed.do_fetch("tests", 10)) == 3
    doomed.close()
    assert services.jobs_reconcile(broker=broker).returned == {}  # its heartbeat is fresh: alive
    result = services.jobs_reconcile(broker=broker, now=timezone.now() + timedelta(seconds=3))
    assert result.returned == {"tests": 3} and result.resent == []
    assert broker.client.zscore(f"{broker.namespace}:__heartbeats__", doomed.broker_id) is None  # forgotten
    drain(broker)
    assert set(Job.objects.filter(pk__in=ids).values_list("status", flat=True)) == {"succeeded"}
    assert [actors.calls(f"count_me:held-{n}") for n in range(3)] == [1, 1, 1]


def test_a_live_workers_messages_are_left_with_it(redis_broker_factory):
    broker = redis_broker_factory(heartbeat_timeout=60_000)
    broker.declare(actors.count_me)
    enqueue("count_me", "busy")
    busy = RedisBroker(url=settings.REDIS_LOCATION, namespace=broker.namespace, middleware=[])
    (data,) = busy.do_fetch("tests", 10)
    assert services.jobs_reconcile(broker=broker, now=timezone.now() + timedelta(seconds=30)).returned == {}
    assert broker.client.scard(f"{broker.namespace}:__acks__.{busy.broker_id}.tests") == 1
    busy.close()


def test_a_redelivered_job_that_a_live_worker_runs_comes_back_until_that_worker_dies(broker, worker, run_jobs,
                                                                                      monkeypatch):
    """Dramatiq redelivers the messages of a worker it thinks dead; if our heartbeat says the owner still
    lives, the copy must not be dropped (the owner may be dying): it comes back later and takes the job
    over once the owner is dead."""
    import time

    import dramatiq

    from apps.jobs import delivery
    from apps.jobs.middleware import ledger

    monkeypatch.setattr(ledger, "OWNER_ALIVE_RECHECK_MS", 100)
    job_id = enqueue("count_me", "owned")
    broker.flush_all()
    WorkerHeartbeat.objects.create(host="other", pid=7, last_seen=timezone.now())
    Job.objects.filter(pk=job_id).update(status="running", worker="other:7", attempts=1)
    assert delivery.first_delivery(job_id)  # (what other:7's delivery of it did)
    broker.enqueue(dramatiq.Message(queue_name="tests", actor_name="count_me", args=("owned",), kwargs={}, options={},
                                    message_id=job_id))
    time.sleep(0.6)  # delivered, and bounced a few times
    assert actors.calls("count_me:owned") == 0 and Job.objects.get(pk=job_id).status == "running"
    WorkerHeartbeat.objects.filter(host="other").update(last_seen=timezone.now() - timedelta(minutes=5))
    run_jobs()
    job = Job.objects.get(pk=job_id)
    assert (job.status, actors.calls("count_me:owned")) == ("succeeded", 1) and job.worker != "other:7"
