"""The live alert stream: strong signals published on Redis pub/sub for the SSE endpoint's clients."""

import json

import structlog
from django.core.cache import cache
from django_redis import get_redis_connection

from newstunneler import telemetry

logger = structlog.get_logger(__name__)


def stream_channel() -> str:
    return cache.make_key("alerts:stream")


def publish(payload: dict) -> None:
    """Push a strong signal to every connected stream client. Best effort: a client that was not
    connected (or a Redis hiccup) misses it; the signal itself is stored either way."""
    try:
        get_redis_connection("default").publish(stream_channel(), json.dumps(payload))
        telemetry.NOTIFICATIONS.labels("stream", "sent").inc()
    except Exception as exc:  # noqa: BLE001 - never fail the job that built the signal
        telemetry.NOTIFICATIONS.labels("stream", "failed").inc()
        telemetry.error("notify", exc)
        logger.warning("alert_stream_publish_failed", error=str(exc), signal_id=payload.get("id"))
