"""Outbound webhooks: signed events to the endpoints subscribed to them, one ledger job per delivery,
a failing endpoint disabled after NT_WEBHOOK_DISABLE_AFTER_HOURS."""

import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta

import httpx
import structlog
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from apps import flags
from apps.jobs.enqueue import enqueue_many
from apps.jobs.errors import PermanentError
from apps.signals.models import CONSUMER_EVENT_TYPES, WebhookDelivery, WebhookEndpoint
from apps.signals.notify.http import DeliveryFailed, _post
from newstunneler import telemetry
from newstunneler.netguard import BlockedURL, check_url

logger = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-NT-Signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, tolerance: int = 300, now: float | None = None) -> bool:
    """What a receiver does (and what the tests do): recompute, compare in constant time, and refuse
    stale timestamps (replays)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={parts.get('v1', '')}")


def emit(event_type: str, data: dict) -> int:
    """Queue a delivery of the event to every enabled endpoint subscribed to it. Returns how many."""
    if not flags.is_enabled("webhook_notifications"):
        return 0
    candidates = WebhookEndpoint.objects.filter(enabled=True)
    if event_type not in CONSUMER_EVENT_TYPES:  # operations events go to staff's endpoints only
        candidates = candidates.filter(Q(owner__isnull=True) | Q(owner__is_staff=True))
    endpoints = [e for e in candidates if event_type in (e.event_types or [])]
    if not endpoints:
        return 0
    event = new_event(event_type, data)
    enqueue_many("deliver_webhook", [(endpoint.pk, event) for endpoint in endpoints])
    return len(endpoints)


def new_event(event_type: str, data: dict) -> dict:
    """The body every endpoint gets: {"id", "type", "created_at", "data"} (the id is the same on every attempt)."""
    return {"id": str(uuid.uuid4()), "type": str(event_type), "created_at": timezone.now().isoformat(), "data": data}


def deliver(endpoint_id: int, event: dict) -> WebhookDelivery | None:
    """One attempt: POST the signed event, log it, and keep the endpoint's failure state. Raises
    DeliveryFailed (retried) or PermanentError (a refused address, or the endpoint just disabled)."""
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None or not endpoint.enabled:
        logger.info("webhook_skipped", endpoint_id=endpoint_id, reason="deleted or disabled")
        return None
    body = json.dumps(event, separators=(",", ":"), sort_keys=True).encode()
    headers = {"X-NT-Event": event["type"], "X-NT-Delivery": event["id"],
               SIGNATURE_HEADER: sign(endpoint.secret, int(time.time()), body)}
    status, error, refused = None, "", False
    started = time.perf_counter()
    try:
        check_url(endpoint.url)
        response = _post(endpoint.url, body, headers)
        status = response.status_code
        if 300 <= status < 400:
            error = f"HTTP {status}: redirects are not followed"
        elif status >= 400:
            error = f"HTTP {status}: {response.text[:200]}"
    except BlockedURL as exc:
        error, refused = f"refused: {exc}", True
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"
    duration = (time.perf_counter() - started) * 1000
    now = timezone.now()
    attempt = WebhookDelivery.objects.filter(endpoint=endpoint, event_id=event["id"]).count() + 1
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type=event["type"], event_id=event["id"], attempt=attempt, status_code=status,
        ok=not error, error=error, duration_ms=round(duration, 1))
    telemetry.NOTIFICATIONS.labels("webhook", "failed" if error else "sent").inc()
    if not error:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None, last_success_at=now)
        return delivery
    telemetry.error("notify", "refused" if refused else "delivery_failed")
    failing_since = endpoint.failing_since or now
    if now - failing_since >= timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS):
        reason = (f"Disabled at {now:%Y-%m-%d %H:%M} UTC after failing since {failing_since:%Y-%m-%d %H:%M} UTC; "
                  f"last error: {error}")
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False, disabled_reason=reason,
                                                               failing_since=failing_since)
        logger.warning("webhook_endpoint_disabled", endpoint_id=endpoint.pk, reason=reason)
        raise PermanentError(reason)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=failing_since)
    if refused:
        raise PermanentError(f"{endpoint.url}: {error}")
    raise DeliveryFailed(f"{endpoint.url}: {error}")
