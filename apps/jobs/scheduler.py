"""The scheduler loop behind `manage.py run_scheduler`: each tick fires the due Schedule rows, gives
dead workers' messages back to their queues and, every NT_JOBS_RECONCILE_EVERY seconds, reconciles
the ledger with the broker (and anything else registered in DUE_WORK).

The reconciler runs here, not as a scheduled job: a job can be lost with the very broker it would
repair (a flushed Redis, a killed worker holding it), and a lost scheduled job would hold its
schedule's dedupe key, so no later run would start."""

import signal
import threading
import time
from collections.abc import Callable

import structlog

from apps.jobs.middleware.heartbeat import Beater

logger = structlog.get_logger(__name__)

RECONCILE_LEASE = "jobs:reconcile-lease"


def fire_schedules() -> int:
    from apps.jobs.services import schedule_fire_due

    return len(schedule_fire_due())


def recover_jobs() -> int:
    """Every tick: the messages of workers whose broker heartbeat stopped go back to their queues (a
    cheap read while none died). Every NT_JOBS_RECONCILE_EVERY seconds, once across all schedulers (a
    lease in the shared cache): the full reconcile, re-sending jobs whose message is gone."""
    import dramatiq
    from django.conf import settings
    from django.core.cache import cache

    from apps.jobs import brokerstate
    from apps.jobs.services import jobs_reconcile

    broker = dramatiq.get_broker()
    if cache.add(RECONCILE_LEASE, 1, timeout=settings.JOBS_RECONCILE_EVERY):
        result = jobs_reconcile(broker=broker)  # (its first step is the same giving back)
        return len(result.resent) + sum(result.returned.values())
    return sum(brokerstate.requeue_dead_workers(broker).values())


# Callables that fire whatever is due and return how many jobs they enqueued (or recovered).
DUE_WORK: list[Callable[[], int]] = [fire_schedules, recover_jobs]


def tick() -> int:
    from newstunneler import telemetry

    fired = 0
    for fire_due in DUE_WORK:
        try:
            fired += fire_due()
        except Exception as exc:  # one broken source of work must not stop the scheduler
            telemetry.error("scheduler", exc)
            logger.exception("scheduler_tick_failed", source=getattr(fire_due, "__name__", repr(fire_due)))
    telemetry.SCHEDULER_TICKS.inc()
    telemetry.SCHEDULER_FIRED.inc(fired)
    return fired


def run_forever(interval: float, stop: threading.Event | None = None, max_ticks: int | None = None) -> int:
    """Tick every `interval` seconds until SIGTERM/SIGINT (or `stop` is set). Returns ticks run."""
    stop = stop or threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGINT):
            previous[signum] = signal.signal(signum, lambda *_: stop.set())
    logger.info("scheduler_started", interval=interval, sources=len(DUE_WORK))
    beater = Beater("scheduler", interval=min(interval, 10)).start()
    try:
        return _loop(interval, stop, max_ticks)
    finally:
        beater.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _loop(interval, stop, max_ticks) -> int:
    ticks = 0
    while not stop.is_set():
        started = time.monotonic()
        fired = tick()
        ticks += 1
        if fired:
            logger.info("scheduler_fired", jobs=fired)
        if max_ticks is not None and ticks >= max_ticks:
            break
        stop.wait(max(0.0, interval - (time.monotonic() - started)))
    logger.info("scheduler_stopped", ticks=ticks)
    return ticks
