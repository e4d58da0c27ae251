"""`enqueue` and `enqueue_many`: the one way the project starts background work.

It writes the job's ledger row in the caller's transaction and sends the Dramatiq message when that
transaction commits, so work that rolled back is never sent and work that committed is never lost
(the reconciler re-sends a committed job whose message went missing). Actors are named by their
registered name, so an earlier stage starts a later one without importing it. A fan-out (one job per
source, per article, per subscriber ...) uses `enqueue_many`: one INSERT for the rows, one Redis round
trip for the messages.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

import dramatiq
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps import flags
from apps.jobs import context
from apps.jobs.models import Job
from apps.jobs.registry import get_actor
from newstunneler import bulk
from newstunneler.middleware import current_request_id


def _message(actor, args, kwargs, request_id: str | None) -> dramatiq.Message:
    """The message carries the trace id of what caused it: the request's id (a scheduled run's, bound by
    the scheduler), or, caused by nothing traced (a shell, a command), `job-<its own id>`. The worker binds
    it to the job's log lines and hands it to the jobs that job enqueues (apps/jobs/context.py); the ledger
    row keeps it, so the admin and the logs join on it."""
    message = actor.message_with_options(args=tuple(args), kwargs=kwargs)
    message.options["nt_request_id"] = request_id or f"job-{message.message_id[:12]}"
    return message


def send_on_commit(message: dramatiq.Message, delay: timedelta | None = None, broker: dramatiq.Broker | None = None) -> None:
    broker = broker or dramatiq.get_broker()
    delay_ms = int(delay.total_seconds() * 1000) if delay else None
    transaction.on_commit(lambda: broker.enqueue(message, delay=delay_ms))


def send_many_on_commit(messages: list[dramatiq.Message], delay: timedelta | None = None) -> None:
    """Send on commit; in one pipeline when the broker can (apps/jobs/broker.py), else one by one."""
    broker = dramatiq.get_broker()
    delay_ms = int(delay.total_seconds() * 1000) if delay else None

    def send():
        if hasattr(broker, "enqueue_many"):
            broker.enqueue_many(messages, delay=delay_ms)
        else:
            for message in messages:
                broker.enqueue(message, delay=delay_ms)

    transaction.on_commit(send)


@dataclass(frozen=True)
class Call:
    """One job of a fan-out: the actor's arguments, and optionally its dedupe key."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    dedupe_key: str | None = None


def enqueue_many(actor_name: str, calls: Iterable[Call | tuple], *, delay: timedelta | None = None,
                 batch_size: int = 1000) -> list[str]:
    """`enqueue` for many jobs of one actor: the rows in one INSERT per `batch_size`, the messages sent
    on commit in one pipeline per batch. `calls` are Call objects or plain argument tuples. Returns the
    job ids in the order of `calls`; a call whose dedupe key is held by a live job (or by an earlier
    call of the same batch) gets that job's id and sends nothing."""
    actor = get_actor(actor_name)
    calls = [call if isinstance(call, Call) else Call(args=tuple(call)) for call in calls]
    ids: list[str] = []
    for first in range(0, len(calls), batch_size):
        ids += _enqueue_batch(actor_name, actor, calls[first:first + batch_size], delay)
    return ids


def _enqueue_batch(actor_name: str, actor, calls: list[Call], delay: timedelta | None) -> list[str]:
    request_id, retry_at = current_request_id(), timezone.now() + delay if delay else None
    parent = context.current_job_id()
    messages = [_message(actor, call.args, call.kwargs, request_id) for call in calls]
    # Ledger rows as mappings (bulk.insert fills the other columns with their defaults): a fan-out makes
    # thousands, and a model instance costs several times as much to build.
    jobs = [{"id": message.message_id, "actor": actor_name, "queue": actor.queue_name, "args": list(call.args),
             "kwargs": call.kwargs, "dedupe_key": call.dedupe_key, "request_id": message.options["nt_request_id"],
             "next_retry_at": retry_at, "parent_id": parent}
            for call, message in zip(calls, messages, strict=True)]
    keyed = [job for job in jobs if job["dedupe_key"]]
    # The whole batch or none of it: one statement (several on a SQLite built with a low parameter limit)
    # in the caller's transaction, or in one of its own. No savepoint: nothing here is caught to carry on
    # with, and on PostgreSQL a savepoint costs two round trips per fan-out.
    with transaction.atomic(savepoint=False):
        # Conflicts can only be dedupe keys (ids are fresh uuids): those rows are left out, and looked up.
        inserted = bulk.insert(Job, jobs, ignore_conflicts=bool(keyed), returning=("id",) if keyed else ())
    stored = {job_id for (job_id,) in inserted}
    holders = dict(Job.objects.live().filter(dedupe_key__in=[job["dedupe_key"] for job in keyed if job["id"] not in stored])
                   .values_list("dedupe_key", "id")) if len(stored) < len(keyed) else {}
    ids, sent = [], []
    for call, job, message in zip(calls, jobs, messages, strict=True):
        if job["dedupe_key"] and job["id"] not in stored:
            holder = holders.get(job["dedupe_key"])
            # No live holder: it ended between the insert and the look-up; this call takes the key now.
            ids.append(holder or enqueue(actor_name, *call.args, dedupe_key=call.dedupe_key, delay=delay, **call.kwargs))
            continue
        ids.append(job["id"])
        sent.append((call, message))
    if not flags.is_enabled("async_jobs"):
        from apps.jobs.inline import run_inline

        for call, message in sent:
            transaction.on_commit(lambda call=call, job_id=message.message_id: run_inline(
                job_id, actor, tuple(call.args), call.kwargs))
    elif sent:
        send_many_on_commit([message for _, message in sent], delay)
    return ids


def enqueue(actor_name: str, *args, dedupe_key: str | None = None, delay: timedelta | None = None,
            requeued_from: Job | None = None, **kwargs) -> str:
    """Record and (on commit) send `actor_name(*args, **kwargs)`. Returns the job id. With a dedupe key,
    while a job with that key is queued, running or retrying, nothing is sent and its id is returned."""
    actor = get_actor(actor_name)
    message = _message(actor, args, kwargs, current_request_id())
    job = Job(
        id=message.message_id, actor=actor_name, queue=actor.queue_name, args=list(args), kwargs=kwargs,
        dedupe_key=dedupe_key, request_id=message.options["nt_request_id"], requeued_from=requeued_from,
        parent_id=context.current_job_id(),
        next_retry_at=timezone.now() + delay if delay else None,
    )
    if dedupe_key is None:
        job.save(force_insert=True)
    else:
        try:
            with transaction.atomic():  # a savepoint: a clash must not spoil the caller's transaction
                job.save(force_insert=True)
        except IntegrityError:
            existing = Job.objects.live().filter(dedupe_key=dedupe_key).values_list("id", flat=True).first()
            if existing:
                return existing
            raise
    if not flags.is_enabled("async_jobs"):
        from apps.jobs.inline import run_inline

        transaction.on_commit(lambda: run_inline(job.id, actor, args, kwargs))
        return job.id
    send_on_commit(message, delay)
    return job.id
