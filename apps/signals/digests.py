"""Email digests: the daily one (the last 24 h at or above each subscription's minimum, grouped by
label, strongest first) and the weekly one (the 20 strongest of the last 7 days).

A `DigestRun` row per (kind, period, recipient) makes sending idempotent: a rerun, a retried job or
two subscriptions of one address send one email. A run is claimed before sending and marked sent
after; a failed send is marked failed and retried. Only a worker killed between the SMTP server
accepting the message and the row being marked can cause a second email (at-least-once).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from apps.signals.models import DigestRun, DigestSubscription, EventType, Frequency, Label, Signal
from newstunneler import telemetry

logger = structlog.get_logger(__name__)
WEEKLY_TOP = 20
DAILY_MAX = 200  # a daily digest lists at most this many signals (the strongest)
STALE_CLAIM = timedelta(minutes=15)  # a run "sending" for longer than this was abandoned by its worker
UNSUBSCRIBE_SALT = "digest-unsubscribe"


def period_of(kind: str, now: datetime) -> str:
    """The period a digest sent at `now` is for: the UTC day (daily) or ISO week (weekly)."""
    if kind == Frequency.WEEKLY:
        year, week, _ = now.isocalendar()
        return f"{year}-W{week:02d}"
    return now.date().isoformat()


def window_of(kind: str, now: datetime) -> tuple[datetime, datetime]:
    return now - (timedelta(days=7) if kind == Frequency.WEEKLY else timedelta(hours=24)), now


def unsubscribe_token(subscription: DigestSubscription) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(subscription.pk))


def subscription_for_token(token: str) -> DigestSubscription | None:
    """The subscription a link names, or None if the link was not signed by us (or it was deleted)."""
    try:
        pk = signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token)
    except signing.BadSignature:
        return None
    return DigestSubscription.objects.filter(pk=int(pk)).first() if pk.isdigit() else None


def unsubscribe_url(subscription: DigestSubscription) -> str:
    return f"{settings.PUBLIC_URL}/digests/unsubscribe/{unsubscribe_token(subscription)}/"


def signals_for(kind: str, start: datetime, end: datetime, *, min_score: float = 0, symbols=(), labels=()) -> list[Signal]:
    signals = (Signal.objects.filter(t__gte=start, t__lt=end, score__gte=min_score)
               .select_related("article", "article__analysis").order_by("-score", "-t"))
    if symbols:
        signals = signals.filter(symbol__in=[s.upper() for s in symbols])
    if labels:
        signals = signals.filter(label__in=labels)
    return list(signals[:WEEKLY_TOP if kind == Frequency.WEEKLY else DAILY_MAX])


@dataclass
class Rendered:
    subject: str
    text: str
    html: str


def render(kind: str, period: str, signals: list[Signal], unsubscribe: str = "") -> Rendered:
    """HTML + plain text. Daily: grouped by label (strongest label first), strongest first within."""
    if kind == Frequency.WEEKLY:
        groups = [("Top signals of the week", signals)]
    else:
        order = {label: n for n, label in enumerate(Label.values)}
        groups = [(label, [s for s in signals if s.label == label]) for label in sorted(
            {s.label for s in signals}, key=lambda label: order.get(label, 99))]
    rows = [(title, [_row(s) for s in members]) for title, members in groups]
    context = {"kind": kind, "period": period, "groups": rows, "count": len(signals),
               "unsubscribe_url": unsubscribe, "site_url": settings.PUBLIC_URL}
    subject = (f"News Tunneler {'weekly' if kind == Frequency.WEEKLY else 'daily'} digest {period}: "
               f"{len(signals)} signal{'s' if len(signals) != 1 else ''}")
    return Rendered(subject=subject, text=render_to_string("emails/digest.txt", context),
                    html=render_to_string("emails/digest.html", context))


def _row(signal: Signal) -> dict:
    article = signal.article
    analysis = getattr(article, "analysis", None) if article else None
    return {"symbol": signal.symbol, "score": signal.score, "label": signal.label,
            "stance": (signal.stance or "").lower(), "t": signal.t,
            "title": article.title if article else "",
            "url": article.url if article and article.url.startswith(("http://", "https://")) else "",
            "summary": analysis.summary if analysis else ""}


def _claim(kind: str, period: str, recipient: str, subscription: DigestSubscription | None) -> DigestRun | None:
    """The run this job may send, or None if it was sent or another job is sending it now."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return DigestRun.objects.create(kind=kind, period=period, recipient=recipient, subscription=subscription,
                                            status=DigestRun.Status.SENDING, claimed_at=now)
    except IntegrityError:
        pass
    run = DigestRun.objects.get(kind=kind, period=period, recipient=recipient)
    if run.status == DigestRun.Status.SENT:
        return None
    retakable = DigestRun.objects.filter(pk=run.pk, status=DigestRun.Status.FAILED) | DigestRun.objects.filter(
        pk=run.pk, status=DigestRun.Status.SENDING, claimed_at__lt=now - STALE_CLAIM)
    if not retakable.update(status=DigestRun.Status.SENDING, claimed_at=now):
        return None
    run.refresh_from_db()
    return run


def due_signals(kind: str, now: datetime, subscription: DigestSubscription | None = None, *,
                min_score: float = 0, symbols=(), labels=()) -> list[Signal]:
    """What a digest sent at `now` lists: the subscription's filters, or the ones given."""
    if subscription is not None:
        min_score, symbols, labels = subscription.min_score, subscription.symbols, subscription.labels
    start, end = window_of(kind, now)
    return signals_for(kind, start, end, min_score=min_score, symbols=symbols, labels=labels)


def already_sent(kind: str, period: str, recipient: str) -> bool:
    return DigestRun.objects.filter(kind=kind, period=period, recipient=recipient,
                                    status=DigestRun.Status.SENT).exists()


@dataclass
class Outcome:
    recipient: str
    status: str  # sent | already sent | empty | busy
    signals: int = 0


def send(kind: str, *, recipient: str, now: datetime, subscription: DigestSubscription | None = None,
         min_score: float = 0, symbols=(), labels=()) -> Outcome:
    """Send one recipient's digest for the period of `now`, once."""
    period = period_of(kind, now)
    signals = due_signals(kind, now, subscription, min_score=min_score, symbols=symbols, labels=labels)
    if not signals:
        return Outcome(recipient, "empty")
    run = _claim(kind, period, recipient, subscription)
    if run is None:
        return Outcome(recipient, "already sent" if already_sent(kind, period, recipient) else "busy")
    unsubscribe = unsubscribe_url(subscription) if subscription is not None else ""
    rendered = render(kind, period, signals, unsubscribe)
    headers = {"List-Unsubscribe": f"<{unsubscribe}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"} \
        if unsubscribe else {}
    message = EmailMultiAlternatives(rendered.subject, rendered.text, settings.DEFAULT_FROM_EMAIL, [recipient],
                                     headers=headers)
    message.attach_alternative(rendered.html, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as exc:
        telemetry.NOTIFICATIONS.labels("email", "failed").inc()
        telemetry.error("notify", exc)
        DigestRun.objects.filter(pk=run.pk).update(status=DigestRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    DigestRun.objects.filter(pk=run.pk).update(status=DigestRun.Status.SENT, sent_at=timezone.now(),
                                               signal_count=len(signals), error="")
    telemetry.NOTIFICATIONS.labels("email", "sent").inc()
    logger.info("digest_sent", kind=kind, period=period, recipient=recipient, signals=len(signals))
    from apps.signals import notify

    notify.emit(EventType.DIGEST_SENT, {"kind": kind, "period": period, "recipient": recipient,
                                        "signals": len(signals)})
    return Outcome(recipient, "sent", len(signals))


def due_subscriptions(kind: str, to: str = ""):
    """Active, confirmed subscriptions of this frequency (only those to `to`, if given)."""
    subscriptions = DigestSubscription.objects.filter(
        active=True, frequency=kind, confirmed_at__isnull=False).select_related("user")
    if to:
        to = to.strip().lower()
        subscriptions = [s for s in subscriptions if s.recipient == to]
    return [s for s in subscriptions if s.recipient]


def fan_out(kind: str, now: datetime) -> int:
    """Queue one job per active subscription of this frequency (the scheduled actors call this)."""
    from apps.jobs.enqueue import Call, enqueue_many

    period = period_of(kind, now)
    count = len(enqueue_many("send_digest_to", [
        Call(args=(subscription.pk, kind, now.isoformat()), dedupe_key=f"digest:{kind}:{period}:{subscription.pk}")
        for subscription in due_subscriptions(kind)]))
    logger.info("digests_queued", kind=kind, period=period, subscriptions=count)
    return count
