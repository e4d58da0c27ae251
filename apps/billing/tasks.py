"""Actors of the billing app."""

import dramatiq

from apps.billing import metering


@dramatiq.actor(queue_name="maintenance", max_retries=3, min_backoff=5_000, max_backoff=60_000)
def flush_usage() -> None:
    metering.flush_usage()
