"""Actors of the billing app."""

import dramatiq

from apps.billing import metering


@dramatiq.actor(queue_name="maintenance", max_retries=3, min_backoff=5_000, max_backoff=60_000)
def flush_usage() -> None:
    metering.flush_usage()


@dramatiq.actor(queue_name="maintenance", max_retries=3, min_backoff=5_000, max_backoff=60_000)
def record_usage(account_id: int, usage: dict) -> None:
    """Charge an account: usage is {metric: amount} (e.g. analyses, prompt_tokens, llm_cost_usd)."""
    for metric, amount in usage.items():
        metering.record(account_id, metric, float(amount))
