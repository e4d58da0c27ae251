"""Which deliveries of a job's message may run without reading its ledger row first.

The first delivery of a message runs at once (the ledger's final write is then the claim); any later one
(a retry, a dead worker's message given back, a reconciler's re-send) reads the row first. A marker in
the shared cache tells them apart: SET NX per job. The project's broker (apps/jobs/broker.py) marks each
fetched batch with one command (a script) and keeps the answers here for the worker threads; other
brokers pay one round trip per job. Ending a queued job from outside (discard, requeue) sets the marker too, so that
its message, when it arrives, reads the row and is skipped."""

import threading

from django.core.cache import cache

TTL = 3600  # seconds: far longer than a dead worker's messages take to come back

_answers: dict[str, bool] = {}  # job id -> first delivery? (marked by the consumer, not yet processed)
_lock = threading.Lock()


def _key(job_id: str) -> str:
    return f"jobs:delivered:{job_id}"


def first_delivery(job_id: str) -> bool:
    """True the first time a job's message is delivered (and marks it), False afterwards."""
    with _lock:
        answer = _answers.pop(job_id, None)
    if answer is not None:
        return answer
    return cache.add(_key(job_id), 1, timeout=TTL)


def is_marked(job_id: str) -> bool:
    """Whether mark() already answered for this job (its answer not yet used)."""
    return job_id in _answers


_MARK = """
local answers = {}
for i, key in ipairs(KEYS) do
    answers[i] = redis.call("set", key, 1, "NX", "EX", ARGV[1]) and 1 or 0
end
return answers
"""
_mark_script = None


def mark(job_ids: list[str]) -> None:
    """Mark a batch of delivered messages with one command (SET NX for each, in a script);
    first_delivery() then answers for them without a round trip."""
    global _mark_script
    client = cache.client.get_client(write=True)
    if _mark_script is None:
        _mark_script = client.register_script(_MARK)
    answers = _mark_script(keys=[cache.make_key(_key(job_id)) for job_id in job_ids], args=[TTL], client=client)
    with _lock:
        for job_id, answer in zip(job_ids, answers, strict=True):
            _answers[job_id] = bool(answer)


def read_before_running(job_ids) -> None:
    """Make every delivery of these jobs' messages read the ledger row first."""
    cache.set_many({_key(job_id): 1 for job_id in job_ids}, timeout=TTL)
