"""Slack alerts: one message per strong signal, debounced per symbol and article."""

import json

import structlog
from django.conf import settings
from django.core.cache import cache
from django_redis import get_redis_connection

from apps.jobs.errors import PermanentError
from apps.signals.notify.alerts import signal_payloads
from apps.signals.notify.http import DeliveryFailed, _post
from newstunneler import telemetry
from newstunneler.netguard import BlockedURL, check_url_syntax

logger = structlog.get_logger(__name__)


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
        telemetry.NOTIFICATIONS.labels("slack", "skipped").inc()
        logger.info("slack_alert_debounced", signal_id=signal_id, symbol=payload["symbol"])
        return False
    try:
        response = _post(url, json.dumps(slack_message(payload)).encode(), {}, guarded=False)
        if not 200 <= response.status_code < 300:
            raise DeliveryFailed(f"Slack answered HTTP {response.status_code}: {response.text[:200]}")
    except Exception as exc:
        redis.delete(key)
        telemetry.NOTIFICATIONS.labels("slack", "failed").inc()
        telemetry.error("notify", exc)
        raise
    telemetry.NOTIFICATIONS.labels("slack", "sent").inc()
    logger.info("slack_alert_sent", signal_id=signal_id, symbol=payload["symbol"])
    return True
