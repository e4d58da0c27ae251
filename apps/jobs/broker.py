"""The project's Redis broker: Dramatiq's RedisBroker, with a consumer that works with the job ledger.

Two things a worker thread would otherwise wait for on every job happen elsewhere, in batches:

- first delivery or not (apps/jobs/delivery.py): the consumer thread marks a whole fetched batch of
  messages with one Redis command (a script doing SET NX for each), instead of one round trip per job
  on the worker threads; if that fails, each delivery asks for itself;
- the ack of a job whose "succeeded" row the ledger writer is still committing: the writer acks it
  once the row is committed (apps/jobs/ledger_writer.py), so the worker thread takes its next job
  at once, and acks the whole batch in one round trip. A message is still never acked before its row
  is committed: a worker killed in between leaves the message unacked, and it runs again.

Any other broker (the tests' StubBroker, a plain RedisBroker) still works: the ledger then reads
first-delivery marks one by one and waits for its commit before the ack."""

import threading
import time
from uuid import uuid4

import redis
import structlog
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import current_millis, dq_name
from dramatiq.encoder import Encoder
from dramatiq.errors import ConnectionClosed

from apps.jobs import delivery
from apps.jobs.ledger_writer import writer

logger = structlog.get_logger(__name__)


class LedgerRedisBroker(RedisBroker):
    defers_acks = True  # read by the ledger middleware: a succeeded job's ack waits for its row

    def consume(self, queue_name, prefetch=1, timeout=5000):
        return _LedgerConsumer(self, queue_name, prefetch, timeout)

    def enqueue_many(self, messages: list, *, delay: int | None = None) -> list:
        """RedisBroker.enqueue for many messages, in one round trip: each gets its own redis message id
        (and, delayed, goes to the delay queue with its eta), the enqueue middleware hooks run for each."""
        sent = []
        for message in messages:
            message = message.copy(options={"redis_message_id": str(uuid4())})
            if delay is not None:
                message = message.copy(queue_name=dq_name(message.queue_name), options={"eta": current_millis() + delay})
            self.emit_before("enqueue", message, delay)
            sent.append(message)
        self._dispatch_many("enqueue", [(m.queue_name, m.options["redis_message_id"], m.encode()) for m in sent])
        for message in sent:
            self.emit_after("enqueue", message, delay)
        return sent

    def ack_many(self, queue_name: str, redis_message_ids: list[str]) -> None:
        """Ack several messages in one round trip."""
        self._dispatch_many("ack", [(queue_name, redis_message_id) for redis_message_id in redis_message_ids])

    def _dispatch_many(self, command: str, calls: list[tuple]) -> None:
        """Dramatiq's own dispatch script, once per call (queue name, then the command's arguments), with
        the arguments RedisBroker._dispatch gives it (no maintenance), pipelined in one round trip."""
        dispatch, pipe = self.scripts["dispatch"], self.client.pipeline(transaction=False)
        calls = [[command, current_millis(), queue_name, self.broker_id, self.heartbeat_timeout, self.dead_message_ttl,
                  0, self._max_unpack_size(), *args] for queue_name, *args in calls]
        for args in calls:  # EVALSHA straight away: a Script in a pipeline asks SCRIPT EXISTS first, every time
            pipe.evalsha(dispatch.sha, 1, self.namespace, *args)
        try:
            pipe.execute()
        except redis.exceptions.NoScriptError:  # Redis lost its script cache (restart): load it, run them again
            for args in calls:
                dispatch(keys=[self.namespace], args=args)


PAUSE_RECHECK_SECONDS = 1.0  # how often a consumer re-reads the paused queues (apps/jobs/queues.py)


class _LedgerConsumer(_RedisConsumer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._deferred = 0  # processed messages whose ack waits for the ledger's commit
        self._deferred_lock = threading.Lock()
        self._paused, self._paused_checked = False, 0.0

    def _held(self) -> bool:
        """Is this queue paused? Read from Redis at most once a second (a delay queue is never held: its
        due messages move to their queue, which is)."""
        if self.queue_name.endswith(".DQ"):
            return False
        now = time.monotonic()
        if now - self._paused_checked >= PAUSE_RECHECK_SECONDS:
            from apps.jobs.queues import paused_key

            try:
                self._paused = bool(self.broker.client.sismember(paused_key(self.broker), self.queue_name))
            except redis.ConnectionError as exc:
                raise ConnectionClosed(exc) from None
            self._paused_checked = now
        return self._paused

    @property
    def outstanding_message_count(self):
        """Messages fetched and not yet processed: a processed one waiting for its ack does not hold
        a prefetch slot (the worker threads are free to take more)."""
        return super().outstanding_message_count - self._deferred

    def __next__(self):
        if not self.message_cache and self._held():
            # Paused: fetch nothing (the messages wait in order), but keep this worker's broker heartbeat,
            # which a fetch would have refreshed, so that its unacked messages are not taken for a dead worker's.
            self.broker.client.zadd(f"{self.broker.namespace}:__heartbeats__", {self.broker.broker_id: current_millis()})
            time.sleep(min(0.5, self.timeout / 1000))
            return None
        message = super().__next__()
        if message is not None and "eta" not in message.options and not delivery.is_marked(message.message_id):
            # The batch just fetched: this message and the rest of the prefetch cache, marked together.
            ids = [message.message_id]
            for data in self.message_cache:
                fields = _decode(data)
                if fields is not None and "eta" not in fields.get("options", {}):
                    ids.append(fields["message_id"])
            try:
                delivery.mark(ids)
            except Exception:  # noqa: BLE001 - never lose the fetched message: its delivery then asks one by one
                logger.warning("delivery_mark_failed", jobs=len(ids), exc_info=True)
        return message

    def ack(self, message):
        with self._deferred_lock:
            # counted before the hand-over, so that ack_batch() never takes it below zero
            self._deferred += 1
        if not writer.ack_after_commit(message.message_id, self, message):
            with self._deferred_lock:
                self._deferred -= 1
            super().ack(message)

    def ack_batch(self, messages) -> None:
        """Ack messages whose ledger rows are committed (called by the ledger writer)."""
        try:
            self.broker.ack_many(self.queue_name, [message.options["redis_message_id"] for message in messages])
        except redis.ConnectionError as exc:
            raise ConnectionClosed(exc) from None
        finally:
            for message in messages:
                self.queued_message_ids.discard(message.message_id)
            with self._deferred_lock:
                self._deferred -= len(messages)

    def nack(self, message):
        writer.forget(message.message_id)  # a deferred ack, if any, is not wanted: the message is nacked now
        super().nack(message)


def _decode(data: bytes, encoder: Encoder | None = None) -> dict | None:
    from dramatiq.message import global_encoder

    try:
        return (encoder or global_encoder).decode(data)
    except Exception:  # a message that does not decode is the consumer's to report, not ours
        return None
