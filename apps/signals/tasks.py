"""Actors of the signals app."""

from datetime import datetime

import dramatiq
from django.utils import timezone

from apps.articles.models import Analysis, Article
from apps.signals import digests, notify, outcomes, services, subscriptions
from apps.signals.models import DigestSubscription, Frequency


@dramatiq.actor(queue_name="signals", max_retries=3, throws=(Analysis.DoesNotExist,))
def signals_from_analysis(analysis_id: int) -> str:
    analysis = Analysis.objects.select_related("article", "article__score").get(pk=analysis_id)
    signals = services.signals_from_analysis(analysis=analysis)
    return ", ".join(f"{s.symbol} {s.label} {s.score:.0f}" for s in signals) or "no ticker passed: no signal"


@dramatiq.actor(queue_name="signals", max_retries=3, throws=(Article.DoesNotExist,))
def signals_from_filing(article_id: int) -> str:
    """A Form 4 filing's insider signal (apps/signals/insiders.py), if its trades qualify."""
    signals = services.signals_from_filing(article=Article.objects.get(pk=article_id))
    return ", ".join(f"{s.symbol} {s.label} {s.score:.0f}" for s in signals) or "no qualifying insider trade: no signal"


@dramatiq.actor(queue_name="maintenance", max_retries=1)
def retention_cleanup() -> None:
    services.retention_cleanup()


# --- Notify: digests and alerts (queue "notify"; retried up to an hour apart, then dead letters) ---

NOTIFY = {"queue_name": "notify", "max_retries": 5, "min_backoff": 15_000, "max_backoff": 3_600_000}


@dramatiq.actor(**NOTIFY, flag="email_digests")
def send_daily_digest() -> None:
    """Scheduled 08:00 UTC: one send_digest_to job per active daily subscription."""
    digests.fan_out(Frequency.DAILY, timezone.now())


@dramatiq.actor(**NOTIFY, flag="email_digests")
def send_weekly_digest() -> None:
    """Scheduled Monday 08:00 UTC: one send_digest_to job per active weekly subscription."""
    digests.fan_out(Frequency.WEEKLY, timezone.now())


@dramatiq.actor(**NOTIFY, flag="email_digests")
def send_digest_to(subscription_id: int, kind: str, now: str) -> None:
    """One subscription's digest for the period of `now` (ISO time of the fan-out), sent at most once."""
    subscription = DigestSubscription.objects.select_related("user").filter(
        pk=subscription_id, active=True, confirmed_at__isnull=False).first()
    if subscription is None or not subscription.recipient:
        return  # unsubscribed, deleted or unconfirmed since it was queued
    digests.send(kind, recipient=subscription.recipient, subscription=subscription,
                 now=datetime.fromisoformat(now))


@dramatiq.actor(**NOTIFY)
def send_subscription_confirmation(subscription_id: int) -> None:
    """Email the recipient of a subscription to someone else's address a link to confirm it."""
    subscription = DigestSubscription.objects.select_related("user").filter(pk=subscription_id).first()
    if subscription is not None:
        subscriptions.send_confirmation(subscription=subscription)


@dramatiq.actor(**NOTIFY, flag="slack_alerts")
def send_slack_alert(signal_id: int) -> None:
    notify.send_slack_alert(signal_id)


@dramatiq.actor(**NOTIFY, flag="webhook_notifications")
def deliver_webhook(endpoint_id: int, event: dict) -> None:
    notify.deliver(endpoint_id, event)


# --- Outcomes: prices for the symbols of recent signals, then what each signal did -------------------


@dramatiq.actor(queue_name="maintenance", max_retries=3, min_backoff=60_000, max_backoff=3_600_000)
def fetch_signal_prices() -> None:
    """Scheduled after the US close: daily bars of every symbol with a signal in the last
    NT_PRICES_LOOKBACK_DAYS days, and of the benchmark, from the configured provider."""
    outcomes.prices_for_recent_signals()


@dramatiq.actor(queue_name="maintenance", max_retries=1)
def compute_outcomes() -> None:
    """Scheduled after fetch_signal_prices: the outcomes recent signals lack and can have now."""
    outcomes.outcomes_for_recent_signals()
