"""A job that ends as a dead letter becomes a job.dead webhook event (for staff's endpoints)."""

import structlog

from apps.signals.models import EventType
from apps.signals.notify.webhooks import emit

logger = structlog.get_logger(__name__)


def job_died(sender, job_id: str, actor: str, queue: str, error: str, attempts: int, **kwargs) -> None:
    """A job ended as a dead letter: tell the endpoints that asked (never about their own deliveries,
    which would loop)."""
    if actor == "deliver_webhook":
        return
    try:
        emit(EventType.JOB_DEAD, {"job_id": job_id, "actor": actor, "queue": queue, "error": error,
                                  "attempts": attempts})
    except Exception as exc:  # noqa: BLE001 - the dead letter itself is already recorded
        logger.warning("job_dead_event_failed", job_id=job_id, error=str(exc))
