"""enqueue_many: a fan-out's rows in one INSERT and its messages in one pipeline, on real Redis."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.jobs.enqueue import Call, enqueue, enqueue_many
from apps.jobs.models import Job
from tests.jobs import actors
from tests.jobs.conftest import drain

pytestmark = pytest.mark.django_db(transaction=True)


def _queued(broker, queue="tests") -> int:
    return broker.client.llen(f"{broker.namespace}:{queue}")


def test_a_fan_out_is_one_insert_and_every_job_runs(redis_broker):
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        ids = enqueue_many("count_me", [(f"fan-{n}",) for n in range(120)])
        assert _queued(redis_broker) == 0  # sent on commit only
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    # One statement: SQLite takes 32,766 parameters (about 1,600 rows of 20 columns); PostgreSQL gets one json document
    assert len(inserts) == 1
    assert len(set(ids)) == 120 and Job.objects.filter(pk__in=ids, status="queued").count() == 120
    assert _queued(redis_broker) == 120
    drain(redis_broker)
    assert Job.objects.filter(pk__in=ids, status="succeeded").count() == 120
    assert [actors.calls(f"count_me:fan-{n}") for n in (0, 60, 119)] == [1, 1, 1]


def test_dedupe_keys_point_at_the_live_holder_and_send_nothing_twice(redis_broker):
    holder = enqueue("count_me", "old", dedupe_key="k:1")
    ids = enqueue_many("count_me", [Call(args=("a",), dedupe_key="k:1"), Call(args=("b",), dedupe_key="k:2"),
                                    Call(args=("c",), dedupe_key="k:2"), ("d",)])
    assert ids[0] == holder and ids[1] == ids[2] != holder and ids[3] not in ids[:3]
    assert Job.objects.filter(dedupe_key="k:2").count() == 1
    assert _queued(redis_broker) == 1 + 2  # the holder's own message, k:2 and d
    drain(redis_broker)
    assert [actors.calls(f"count_me:{x}") for x in ("old", "a", "b", "c", "d")] == [1, 0, 1, 0, 1]


def test_rolled_back_fan_out_leaves_no_row_and_sends_nothing(redis_broker):
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_many("count_me", [("gone",)] * 5)
        raise RuntimeError("the caller failed")
    assert not Job.objects.filter(args=["gone"]).exists()
    assert _queued(redis_broker) == 0


def test_a_delayed_fan_out_waits_in_the_delay_queue(redis_broker):
    ids = enqueue_many("count_me", [("later",)] * 3, delay=timedelta(minutes=5))
    assert _queued(redis_broker) == 0 and _queued(redis_broker, "tests.DQ") == 3
    assert all(job.next_retry_at for job in Job.objects.filter(pk__in=ids))
