"""The reconciler re-sends jobs whose message was lost, and never one that is still in the broker."""

import os
from datetime import timedelta

import dramatiq
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from dramatiq.brokers.redis import RedisBroker

from apps.jobs import services
from apps.jobs.enqueue import enqueue
from apps.jobs.models import Job, WorkerHeartbeat
from tests.jobs import actors

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


@pytest.fixture
def redis_broker():
    """A real Redis broker on the Redis of this mode (embedded, or REDIS_URL), with the project's middleware."""
    from django_dramatiq.apps import DjangoDramatiqConfig
    from django_dramatiq.utils import load_middleware

    from newstunneler.settings import DRAMATIQ_MIDDLEWARE

    middleware = [load_middleware(path, **DjangoDramatiqConfig.get_middleware_kwargs(path)) for path in DRAMATIQ_MIDDLEWARE]
    redis_broker = RedisBroker(url=settings.REDIS_LOCATION, namespace="nt-test-dramatiq", middleware=middleware)
    stub = dramatiq.get_broker()
    dramatiq.set_broker(redis_broker)
    redis_broker.declare_actor(actors.count_me)
    original_broker = actors.count_me.broker
    actors.count_me.broker = redis_broker
    yield redis_broker
    actors.count_me.broker = original_broker
    dramatiq.set_broker(stub)
    redis_broker.flush_all()
    redis_broker.close()


def test_flushall_then_reconcile_completes_exactly_once_on_real_redis(redis_broker):
    job_id = enqueue("count_me", "flushed")
    client = redis_broker.client
    assert any(client.hlen(key) for key in client.keys("nt-test-dramatiq:*.msgs"))
    # CI's Redis is ours alone: flush everything there; elsewhere only this mode's database.
    client.flushall() if os.environ.get("CI") == "true" else client.flushdb()
    _age(job_id)
    assert services.jobs_reconcile(broker=redis_broker).resent == [job_id]
    assert services.jobs_reconcile(broker=redis_broker, now=timezone.now() + timedelta(minutes=5)).resent == []
    worker = dramatiq.Worker(redis_broker, worker_timeout=50, worker_threads=2)
    worker.start()
    try:
        redis_broker.join("tests", timeout=10_000)
        worker.join()
    finally:
        worker.stop()
    assert Job.objects.get(pk=job_id).status == "succeeded"
    assert actors.calls("count_me:flushed") == 1
