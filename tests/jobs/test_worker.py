import pytest
from django.core.cache import cache

from apps.jobs.tasks import ping


@pytest.mark.django_db(transaction=True)
def test_a_sent_message_is_run_by_the_worker(broker, worker, run_jobs):
    ping.send("t-1")
    run_jobs()
    assert cache.get("ping:t-1") == "pong"


def test_nothing_runs_without_a_worker(broker):
    ping.send("t-2")
    assert broker.queues["default"].qsize() == 1
    assert cache.get("ping:t-2") is None
