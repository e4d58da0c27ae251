"""Pausing and resuming a queue. A paused queue's messages are held in the broker, in order: the
project's consumer (apps/jobs/broker.py) stops fetching from it, so nothing is skipped or reordered,
and on resume they run as they were queued. Jobs a worker had already fetched (at most its prefetch)
still run. The paused set lives in the broker's Redis (`<namespace>:__nt_paused__`), so every worker
and web process sees the same state within a second.

Only the project's Redis broker holds messages; with any other broker (the tests' StubBroker) pausing
is refused with a clear error."""

import dramatiq

from apps.jobs.registry import discover_actors
from apps.jobs.services import audit

PAUSED_KEY = "__nt_paused__"


def paused_key(broker) -> str:
    """The Redis set of paused queue names, in the broker's namespace (read by its consumers too)."""
    return f"{broker.namespace}:{PAUSED_KEY}"


class QueueControlError(Exception):
    pass


def _client(broker):
    return getattr(broker, "client", None)


def paused_queues(broker: dramatiq.Broker | None = None) -> set[str]:
    broker = broker or dramatiq.get_broker()
    client = _client(broker)
    if client is None:
        return set()
    return {name.decode() if isinstance(name, bytes) else name for name in client.smembers(paused_key(broker))}


def known_queues(broker: dramatiq.Broker | None = None) -> set[str]:
    """The queues of every declared actor (a web process declares them on first use: here)."""
    discover_actors()
    broker = broker or dramatiq.get_broker()
    return {q for q in broker.get_declared_queues() if not q.endswith((".DQ", ".XQ"))}


def _checked(queue: str, broker) -> object:
    if queue not in known_queues(broker):
        raise QueueControlError(f"no queue named {queue!r} (queues: {', '.join(sorted(known_queues(broker)))})")
    client = _client(broker)
    if client is None or not hasattr(broker, "defers_acks"):
        raise QueueControlError(f"the {type(broker).__name__} cannot hold a queue's messages: pausing needs the "
                                "project's Redis broker")
    return client


def queue_pause(*, queue: str, user=None, broker: dramatiq.Broker | None = None) -> bool:
    """Hold `queue`'s messages. Returns False if it was already paused (nothing audited then)."""
    broker = broker or dramatiq.get_broker()
    if not _checked(queue, broker).sadd(paused_key(broker), queue):
        return False
    audit(user=user, action="queue_pause", detail=f"queue {queue} paused: its messages are held")
    return True


def queue_resume(*, queue: str, user=None, broker: dramatiq.Broker | None = None) -> bool:
    """Let `queue`'s held messages run, in order. Returns False if it was not paused."""
    broker = broker or dramatiq.get_broker()
    if not _checked(queue, broker).srem(paused_key(broker), queue):
        return False
    audit(user=user, action="queue_resume", detail=f"queue {queue} resumed")
    return True
