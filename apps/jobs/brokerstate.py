"""What the broker holds: the ids of every message waiting, delayed or in progress in it, so the
reconciler can tell a lost message from one that is merely waiting."""

import dramatiq
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker


def message_ids(broker: dramatiq.Broker, queues: set[str]) -> set[str]:
    names = {q for queue in queues for q in (queue, f"{queue}.DQ")}
    if isinstance(broker, RedisBroker):
        return _redis_ids(broker, names)
    if isinstance(broker, StubBroker):
        return _stub_ids(broker, names)
    raise TypeError(f"cannot inspect a {type(broker).__name__}")


def _redis_ids(broker: RedisBroker, names: set[str]) -> set[str]:
    # Each queue keeps message bodies in a hash <namespace>:<queue>.msgs until they are acked.
    ids = set()
    for name in names:
        for _, data in broker.client.hscan_iter(f"{broker.namespace}:{name}.msgs"):
            ids.add(Message.decode(data).message_id)
    return ids


def _stub_ids(broker: StubBroker, names: set[str]) -> set[str]:
    ids = set()
    for name in names:
        queue = broker.queues.get(name)
        if queue is not None:
            with queue.mutex:
                ids.update(Message.decode(data).message_id for data in list(queue.queue))
    return ids
