"""Shared test infrastructure: personas, a broker + in-process worker, cache isolation, mode header."""

import dramatiq
import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache import cache

from apps.jobs.registry import discover_actors

PERSONA_PASSWORD = "correct horse battery staple"


def pytest_report_header(config):
    from tests import services

    return services.describe_mode()


def pytest_sessionfinish(session, exitstatus):
    if settings.EMBEDDED_REDIS and apps.get_app_config("newstunneler").started_embedded_redis:
        from newstunneler import embedded_redis

        embedded_redis.stop(settings.VAR_DIR)


@pytest.fixture(autouse=True)
def _isolated_cache():
    """Every test starts with an empty cache (only this suite's keys, by prefix, are removed: metering
    counters included), no remembered flag states and no remembered role permissions (user ids are
    reused between tests), and no novelty index (it would hold the titles of rows rolled back since)."""
    from apps.articles.recent import recent_titles
    from apps.billing.permissions import clear_permission_cache
    from apps.flags.checks import clear_local_cache

    cache.delete_pattern("*")
    clear_local_cache()
    clear_permission_cache()
    recent_titles.reset()
    yield


def _reset(broker):
    """Empty every queue and forget messages a stopped worker had fetched but not finished (they would
    keep the next test's join waiting forever)."""
    broker.flush_all()
    for queue in broker.queues.values():
        with queue.all_tasks_done:
            queue.queue.clear()
            queue.unfinished_tasks = 0
            queue.all_tasks_done.notify_all()


@pytest.fixture
def broker():
    discover_actors()
    broker = dramatiq.get_broker()
    _reset(broker)
    yield broker
    _reset(broker)


@pytest.fixture
def worker(broker):
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=2)
    worker.start()
    yield worker
    worker.stop()
    # A Worker registers a middleware on the broker that outlives it: drop it so workers don't pile up.
    broker.middleware[:] = [m for m in broker.middleware if getattr(m, "worker", None) is not worker]


@pytest.fixture
def run_jobs(request, broker):
    """Wait until every queue is drained and the worker is idle (the worker starts at the first call
    if the test did not ask for it earlier). Actor errors do not raise here: tests assert on what the
    failure left behind (its record, its retries)."""

    def run(timeout_ms: int = 10_000):
        worker = request.getfixturevalue("worker")
        # Retries pass through delay queues (<queue>.DQ) and back: join until every queue stays empty.
        for _ in range(20):
            for queue in list(broker.queues):
                try:
                    broker.join(queue, timeout=timeout_ms, fail_fast=False)
                except dramatiq.errors.QueueJoinTimeout:
                    state = {name: (q.qsize(), q.unfinished_tasks) for name, q in broker.queues.items()}
                    raise AssertionError(f"queue {queue} did not drain: {state}") from None
            worker.join()
            if all(q.unfinished_tasks == 0 and q.qsize() == 0 for q in broker.queues.values()):
                return
        raise AssertionError("queues did not drain")

    return run


def _persona(django_user_model, username, group=None, **flags):
    user = django_user_model.objects.create_user(
        username=username, email=f"{username}@example.com", password=PERSONA_PASSWORD, **flags
    )
    if group:
        from apps.billing.roles import ensure_roles

        user.groups.add(ensure_roles()[group])
    return user


@pytest.fixture
def admin_user(db, django_user_model):
    """Staff superuser: the operator in the Django admin."""
    return _persona(django_user_model, "alice-admin", group="admin", is_staff=True, is_superuser=True)


@pytest.fixture
def analyst(db, django_user_model):
    return _persona(django_user_model, "anna-analyst", group="analyst")


@pytest.fixture
def viewer(db, django_user_model):
    return _persona(django_user_model, "victor-viewer", group="viewer")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client
