"""What the broker holds, and giving back what dead workers held.

`message_ids`: the ids of every message waiting, delayed or in progress in the broker, so the
reconciler can tell a lost message from one that is merely waiting.

`requeue_dead_workers`: Dramatiq's Redis broker keeps the messages a worker fetched in that worker's
ack set (`<ns>:__acks__.<worker>.<queue>`) until it acks them. When the worker is killed they stay
there; Dramatiq returns them to their queue only during "maintenance", which runs on a random 0.1% of
broker commands, so under light traffic they can wait for hours. This does that step on purpose, for
every worker whose broker heartbeat is older than the broker's heartbeat timeout."""

import time

import dramatiq
import structlog
from dramatiq import Message
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

logger = structlog.get_logger(__name__)


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


# Atomically, for one worker: if its heartbeat is still older than the cutoff, put every message it
# holds (that its queue still has) back at the end of that queue, drop its ack sets and forget it.
# Like Dramatiq's own maintenance, but for every queue at once (its ack sets are found with KEYS,
# once per dead worker). Returns {queue, count, queue, count, ...}, or {-1} if it beat again meanwhile.
# KEYS: the heartbeats zset. ARGV: namespace, worker id, cutoff (ms).
_REQUEUE_DEAD_WORKER = """
local heartbeats, namespace, worker, cutoff = KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3])
local score = redis.call("zscore", heartbeats, worker)
if score and tonumber(score) > cutoff then
    return {-1}
end
local prefix = namespace .. ":__acks__." .. worker .. "."
local returned = {}
for _, acks in ipairs(redis.call("keys", prefix .. "*")) do
    local queue = string.sub(acks, #prefix + 1)
    local queue_key = namespace .. ":" .. queue
    local count = 0
    for _, id in ipairs(redis.call("smembers", acks)) do
        if redis.call("hexists", queue_key .. ".msgs", id) == 1 then
            redis.call("rpush", queue_key, id)
            count = count + 1
        end
    end
    redis.call("del", acks)
    table.insert(returned, queue)
    table.insert(returned, count)
end
redis.call("zrem", heartbeats, worker)
return returned
"""


def requeue_dead_workers(broker: dramatiq.Broker, now_ms: int | None = None) -> dict[str, int]:
    """Return to their queues the messages held by workers whose broker heartbeat is older than the
    broker's heartbeat timeout. Returns {queue: messages returned}. Only Redis brokers hold messages
    for workers; other brokers return {}."""
    if not isinstance(broker, RedisBroker):
        return {}
    client = broker.client
    heartbeats = f"{broker.namespace}:__heartbeats__"
    cutoff = (now_ms if now_ms is not None else int(time.time() * 1000)) - broker.heartbeat_timeout
    script = client.register_script(_REQUEUE_DEAD_WORKER)
    returned: dict[str, int] = {}
    for worker in client.zrangebyscore(heartbeats, 0, cutoff):
        answer = script(keys=[heartbeats], args=[broker.namespace, worker, cutoff])
        if answer == [-1]:
            continue
        for queue, count in zip(answer[::2], answer[1::2], strict=True):
            if count:
                name = queue.decode()
                returned[name] = returned.get(name, 0) + count
    if returned:
        logger.warning("jobs_returned_from_dead_workers", returned=returned)
    return returned
