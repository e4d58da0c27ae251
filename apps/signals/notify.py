"""Who hears about strong signals, and how: Slack, outbound webhooks and the live stream.

A signal is strong when its score is at least ScoringPolicy.signal_alert_score (admin-editable).
Only signals about news of the last 24 h that are new, or that a re-analysis turned strong, are
announced; backfills announce nothing.
When the transaction that created strong signals commits, `announce` publishes them on the live
stream (Redis pub/sub), queues a Slack alert for each (debounced per symbol and article) and a
`signal.created` webhook event. Every send is a job in the ledger: retried, then a dead letter.
"""

import hashlib
import hmac
import json
import time
import uuid
from datetime import timedelta

import httpx
import structlog
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_redis import get_redis_connection

from apps import flags
from apps.articles.models import ScoringPolicy
from apps.jobs.enqueue import enqueue, enqueue_many
from apps.jobs.errors import PermanentError
from apps.signals.models import CONSUMER_EVENT_TYPES, EventType, Signal, WebhookDelivery, WebhookEndpoint
from newstunneler.netguard import BlockedURL, check_url, check_url_syntax, shared_client

logger = structlog.get_logger(__name__)
SIGNATURE_HEADER = "X-NT-Signature"
ALERT_MAX_AGE = timedelta(hours=24)  # a signal about older news is stored, not announced


class DeliveryFailed(Exception):
    """An outside endpoint did not take a message (retried by the job ledger)."""


# --- Strong signals -------------------------------------------------------------------------------

def signals_created(signals: list[Signal]) -> None:
    """Call inside the transaction that created `signals`: the strong ones about news of the last
    ALERT_MAX_AGE (not an old story a feed just listed) are announced once it commits."""
    if not signals:
        return
    threshold = ScoringPolicy.current().signal_alert_score
    fresh_since = timezone.now() - ALERT_MAX_AGE
    strong = [signal.pk for signal in signals if signal.score >= threshold and signal.t >= fresh_since]
    if strong:
        transaction.on_commit(lambda: announce(strong))


def signal_payloads(signal_ids: list[int], order_by: str = "-score") -> list[dict]:
    from apps.signals.serializers import SignalSerializer

    signals = Signal.objects.with_article().filter(pk__in=signal_ids).order_by(order_by, "id")
    return [SignalSerializer().to_representation(signal) for signal in signals]


def announced_since(last_id: int, created_since, limit: int) -> list[int]:
    """Ids of signals after `last_id`, created since `created_since`, that were (or would have been)
    announced: strong, about fresh news. For stream clients catching up after a reconnect."""
    threshold = ScoringPolicy.current().signal_alert_score
    rows = Signal.objects.filter(pk__gt=last_id, created_at__gte=created_since, score__gte=threshold,
                                 t__gte=F("created_at") - ALERT_MAX_AGE).order_by("id")
    return list(rows.values_list("pk", flat=True)[:limit])


def announce(signal_ids: list[int]) -> None:
    payloads = signal_payloads(signal_ids)
    for payload in payloads:
        publish(payload)
        if settings.SLACK_WEBHOOK_URL and flags.is_enabled("slack_alerts"):
            enqueue("send_slack_alert", payload["id"])
        emit(EventType.SIGNAL_CREATED, payload)


# --- Live stream (Redis pub/sub) -----------------------------------------------------------------

def stream_channel() -> str:
    return cache.make_key("alerts:stream")


def publish(payload: dict) -> None:
    """Push a strong signal to every connected stream client. Best effort: a client that was not
    connected (or a Redis hiccup) misses it; the signal itself is stored either way."""
    try:
        get_redis_connection("default").publish(stream_channel(), json.dumps(payload))
    except Exception as exc:  # noqa: BLE001 - never fail the job that built the signal
        logger.warning("alert_stream_publish_failed", error=str(exc), signal_id=payload.get("id"))


# --- Outbound HTTP -------------------------------------------------------------------------------

def http_client(guarded: bool = True) -> httpx.Client:
    """Webhook URLs come from users: connections go only to vetted public addresses. The Slack URL is
    the operator's own setting (NT_SLACK_WEBHOOK_URL) and may point inside their network."""
    return shared_client("notify" if guarded else "notify-operator", guarded=guarded,
                         headers={"User-Agent": settings.HTTP_USER_AGENT}, timeout=settings.WEBHOOK_TIMEOUT)


def _post(url: str, body: bytes, headers: dict, guarded: bool = True) -> httpx.Response:
    return http_client(guarded).post(url, content=body, headers={"Content-Type": "application/json", **headers})


# --- Slack ---------------------------------------------------------------------------------------

def _slack_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(payload: dict) -> dict:
    """A Slack incoming-webhook message: `text` (notifications, plain clients) plus blocks."""
    symbol, score, label = payload["symbol"], payload["score"], payload["label"]
    stance = (payload.get("stance") or "").lower() or "no stance"
    headline = f"{symbol} {score:.0f}/100 {label} ({stance})"
    title = _slack_escape(payload.get("article_title") or "")
    link = payload.get("article_url") or ""
    if not link.startswith(("http://", "https://")) or "|" in link:
        link = ""  # (a feed's odd link is not made clickable)
    story = f"<{_slack_escape(link)}|{title}>" if link and title else title
    reasons = ", ".join(f"{r['factor']} ({r['contribution']:+.0f})" for r in (payload.get("reasons") or [])[:3])
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{_slack_escape(headline)}*\n{story}".strip()}}]
    if reasons:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _slack_escape(reasons)}]})
    return {"text": _slack_escape(headline) + (f": {title}" if title else ""), "blocks": blocks}


def debounce_key(payload: dict) -> str:
    return cache.make_key(f"alerts:slack:{payload['symbol']}:{payload.get('article_id') or payload['t']}")


def send_slack_alert(signal_id: int) -> bool:
    """Post one strong signal to Slack unless the same symbol and article was posted in the last
    NT_ALERT_DEBOUNCE_SECONDS. Returns whether it posted. A failed post gives the debounce back
    (the retry must be able to post) and raises for the ledger to retry."""
    url = settings.SLACK_WEBHOOK_URL
    if not url:
        return False
    try:
        check_url_syntax(url)
    except BlockedURL as exc:
        raise PermanentError(f"NT_SLACK_WEBHOOK_URL: {exc}") from None  # retrying cannot fix the setting
    payloads = signal_payloads([signal_id])
    if not payloads:
        return False  # deleted meanwhile
    payload = payloads[0]
    redis, key = get_redis_connection("default"), debounce_key(payload)
    if not redis.set(key, signal_id, nx=True, ex=settings.ALERT_DEBOUNCE_SECONDS):
        logger.info("slack_alert_debounced", signal_id=signal_id, symbol=payload["symbol"])
        return False
    try:
        response = _post(url, json.dumps(slack_message(payload)).encode(), {}, guarded=False)
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"Slack answered HTTP {response.status_code}: {response.text[:200]}")
    except Exception:
        redis.delete(key)
        raise
    logger.info("slack_alert_sent", signal_id=signal_id, symbol=payload["symbol"])
    return True


# --- Outbound webhooks ---------------------------------------------------------------------------

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
    if not error:
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None, last_success_at=now)
        return delivery
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
