"""Strong signals: which are announced, and announcing them once the transaction that made them commits
(the live streams, SSE and WebSocket; a Slack alert each; a signal.created webhook event)."""

from datetime import timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps import flags
from apps.articles.models import ScoringPolicy
from apps.jobs.enqueue import enqueue
from apps.signals.models import EventType, Signal
from apps.signals.notify import websocket
from apps.signals.notify.stream import publish
from apps.signals.notify.webhooks import emit

logger = structlog.get_logger(__name__)

ALERT_MAX_AGE = timedelta(hours=24)  # a signal about older news is stored, not announced
# A live stream client (SSE or WebSocket) reconnecting with the last id it got first gets the strong
# signals it missed: those of the last REPLAY_WINDOW, at most REPLAY_MAX.
REPLAY_WINDOW = timedelta(hours=1)
REPLAY_MAX = 100


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


def missed_since(last_id: int) -> list[dict]:
    """The payloads a stream client reconnecting after `last_id` missed, oldest first (the replay)."""
    return signal_payloads(announced_since(last_id, timezone.now() - REPLAY_WINDOW, REPLAY_MAX), order_by="id")


def announce(signal_ids: list[int]) -> None:
    payloads = signal_payloads(signal_ids)
    websocket.publish(payloads)
    for payload in payloads:
        publish(payload)
        if settings.SLACK_WEBHOOK_URL and flags.is_enabled("slack_alerts"):
            enqueue("send_slack_alert", payload["id"])
        emit(EventType.SIGNAL_CREATED, payload)
