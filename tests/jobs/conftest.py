import dramatiq
import pytest
from django.conf import settings

from tests.jobs import actors  # noqa: F401  (declares the actors the jobs tests use)


@pytest.fixture
def redis_broker_factory():
    """Real Redis brokers (the project's LedgerRedisBroker) on the Redis of this mode (embedded, or
    REDIS_URL), with the project's middleware,
    in a namespace of their own; the first one made becomes the global broker (as `enqueue` uses it), and
    `declare(actor)` moves an actor onto it. Everything is flushed and put back afterwards."""
    from django_dramatiq.apps import DjangoDramatiqConfig
    from django_dramatiq.utils import load_middleware

    from apps.jobs.broker import LedgerRedisBroker
    from newstunneler.settings import DRAMATIQ_MIDDLEWARE

    stub = dramatiq.get_broker()
    made, moved = [], []

    def make(namespace="nt-test-dramatiq", heartbeat_timeout=None):
        middleware = [load_middleware(path, **DjangoDramatiqConfig.get_middleware_kwargs(path))
                      for path in DRAMATIQ_MIDDLEWARE]
        options = {"heartbeat_timeout": heartbeat_timeout} if heartbeat_timeout else {}
        broker = LedgerRedisBroker(url=settings.REDIS_LOCATION, namespace=namespace, middleware=middleware, **options)
        if not made:
            dramatiq.set_broker(broker)
        made.append(broker)
        broker.declare = lambda actor: (moved.append((actor, actor.broker)), broker.declare_actor(actor),
                                        setattr(actor, "broker", broker))
        return broker

    yield make
    for actor, original in moved:
        actor.broker = original
    dramatiq.set_broker(stub)
    for broker in made:
        broker.flush_all()
        for key in broker.client.scan_iter(f"{broker.namespace}:*"):
            broker.client.delete(key)
        broker.close()


def drain(broker, queue: str = "tests", timeout_ms: int = 10_000) -> None:
    """Run a real in-process worker on `broker` until `queue` is empty and every message is done."""
    worker = dramatiq.Worker(broker, worker_timeout=50, worker_threads=2)
    worker.start()
    try:
        broker.join(queue, timeout=timeout_ms)
        worker.join()
    finally:
        worker.stop()


@pytest.fixture
def redis_broker(redis_broker_factory):
    broker = redis_broker_factory()
    broker.declare(actors.count_me)
    return broker
