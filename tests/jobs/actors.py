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


@dramatiq.actor(queue_name="tests", max_retries=2, min_backoff=10, max_backoff=40)
def flaky_parent(label: str) -> str:
    """Logs (info), fails its first attempt; then warns, starts two children and says what it did."""
    import structlog

    from apps.jobs.enqueue import enqueue

    attempt = _count("flaky_parent")
    structlog.get_logger("tests.flaky").info("flaky_parent_working", label=label, attempt=attempt)
    if attempt == 1:
        raise ConnectionError(f"upstream refused {label} on attempt {attempt}")
    structlog.get_logger("tests.flaky").warning("flaky_parent_upstream_slow", label=label, attempt=attempt)
    enqueue("count_me", f"{label}-child-1")
    enqueue("count_me", f"{label}-child-2")
    return f"2 children started for {label}"


@dramatiq.actor(queue_name="tests", max_retries=0)
def record_order(label: str) -> None:
    """Appends its label to the run order (tests run it on one worker thread)."""
    cache.set("run-order", [*cache.get("run-order", []), label], timeout=600)
