"""Actors of the jobs app."""

import dramatiq
import structlog
from django.core.cache import cache

from apps.jobs import services

logger = structlog.get_logger(__name__)

PING_TTL = 3600


@dramatiq.actor(queue_name="default", max_retries=0)
def ping(token: str) -> None:
    """A no-op round trip through broker and worker: records `pong` under ping:<token> in the cache."""
    cache.set(f"ping:{token}", "pong", timeout=PING_TTL)
    logger.info("ping", token=token)


@dramatiq.actor(queue_name="maintenance", max_retries=0)
def reconcile_jobs() -> None:
    services.jobs_reconcile()


@dramatiq.actor(queue_name="maintenance", max_retries=1)
def purge_jobs() -> None:
    services.jobs_purge()
