"""Actors used only by the jobs tests, declared on the test broker."""

import dramatiq
from django.core.cache import cache

from apps.jobs.errors import PermanentError


def calls(name: str) -> int:
    return cache.get(f"calls:{name}", 0)


def _count(name: str) -> int:
    try:
        return cache.incr(f"calls:{name}")
    except ValueError:
        cache.set(f"calls:{name}", 1, timeout=600)
        return 1


@dramatiq.actor(queue_name="tests", max_retries=2, min_backoff=10, max_backoff=40)
def always_fails(label: str) -> None:
    _count("always_fails")
    raise RuntimeError(f"boom for {label}")


@dramatiq.actor(queue_name="tests", max_retries=3, min_backoff=10, max_backoff=40)
def fails_until_allowed(label: str) -> None:
    _count("fails_until_allowed")
    if not cache.get("allow"):
        raise ConnectionError(f"not yet: {label}")


@dramatiq.actor(queue_name="tests", max_retries=5, min_backoff=10, max_backoff=40)
def permanent(label: str) -> None:
    _count("permanent")
    raise PermanentError(f"bad input {label}")


@dramatiq.actor(queue_name="tests", max_retries=0)
def count_me(label: str) -> None:
    _count(f"count_me:{label}")
