"""`enqueue`: the one way the project starts background work.

It writes the job's ledger row in the caller's transaction and sends the Dramatiq message when that
transaction commits, so work that rolled back is never sent and work that committed is never lost
(the reconciler re-sends a committed job whose message went missing). Actors are named by their
registered name, so an earlier stage starts a later one without importing it.
"""

from datetime import timedelta

import dramatiq
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps import flags
from apps.jobs.models import Job
from apps.jobs.registry import get_actor
from newstunneler.middleware import current_request_id


def send_on_commit(message: dramatiq.Message, delay: timedelta | None = None, broker: dramatiq.Broker | None = None) -> None:
    broker = broker or dramatiq.get_broker()
    delay_ms = int(delay.total_seconds() * 1000) if delay else None
    transaction.on_commit(lambda: broker.enqueue(message, delay=delay_ms))


def enqueue(actor_name: str, *args, dedupe_key: str | None = None, delay: timedelta | None = None,
            requeued_from: Job | None = None, **kwargs) -> str:
    """Record and (on commit) send `actor_name(*args, **kwargs)`. Returns the job id. With a dedupe key,
    while a job with that key is queued, running or retrying, nothing is sent and its id is returned."""
    actor = get_actor(actor_name)
    message = actor.message_with_options(args=args, kwargs=kwargs)
    job = Job(
        id=message.message_id, actor=actor_name, queue=actor.queue_name, args=list(args), kwargs=kwargs,
        dedupe_key=dedupe_key, request_id=current_request_id() or "", requeued_from=requeued_from,
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
