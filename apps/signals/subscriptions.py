"""Digest subscriptions made by users: one to the user's own address is confirmed at once; one to any
other address gets a confirmation email with a signed link and receives nothing until it is confirmed
(so nobody can subscribe a third party). Staff-made subscriptions (admin) are confirmed by staff."""

from datetime import timedelta

import structlog
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone

from apps.jobs.enqueue import enqueue
from apps.signals.models import DigestSubscription

logger = structlog.get_logger(__name__)
CONFIRM_SALT = "digest-confirm"
CONFIRM_MAX_AGE = timedelta(days=7)
MAX_UNCONFIRMED_PER_USER = 5  # confirmation emails are mail to strangers: a user may have few pending


def confirm_token(subscription: DigestSubscription) -> str:
    """Names the subscription and the address it was for: a link for an address since changed is void."""
    return signing.TimestampSigner(salt=CONFIRM_SALT).sign(f"{subscription.pk}:{subscription.recipient}")


def subscription_for_confirm_token(token: str) -> DigestSubscription | None:
    """The subscription a confirmation link names, or None if the link is forged, older than
    CONFIRM_MAX_AGE, or for an address the subscription no longer has."""
    try:
        value = signing.TimestampSigner(salt=CONFIRM_SALT).unsign(token, max_age=CONFIRM_MAX_AGE)
    except signing.BadSignature:  # (SignatureExpired is one)
        return None
    pk, _, address = value.partition(":")
    subscription = DigestSubscription.objects.select_related("user").filter(pk=int(pk)).first() if pk.isdigit() else None
    return subscription if subscription is not None and subscription.recipient == address else None


def confirm_url(subscription: DigestSubscription) -> str:
    return f"{settings.PUBLIC_URL}/digests/confirm/{confirm_token(subscription)}/"


def unconfirmed_count(user) -> int:
    return DigestSubscription.objects.filter(user=user, confirmed_at__isnull=True, active=True).count()


def subscription_saved(*, subscription: DigestSubscription, address_changed: bool) -> None:
    """After a user created or edited a subscription (API): confirmed at once when it goes to their own
    address; else, when new or its address changed, unconfirmed until the recipient follows the link
    a confirmation email (queued on commit) brings them."""
    if subscription.is_own_address:
        if not subscription.is_confirmed:
            subscription.confirmed_at = timezone.now()
            subscription.save(update_fields=["confirmed_at"])
        return
    if not address_changed:
        return  # (an edit of anything else neither confirms it nor mails the recipient again)
    subscription.confirmed_at = None
    subscription.save(update_fields=["confirmed_at"])
    enqueue("send_subscription_confirmation", subscription.pk)


def subscription_confirm(*, subscription: DigestSubscription) -> bool:
    """The recipient confirmed. Returns False if it already was."""
    updated = DigestSubscription.objects.filter(pk=subscription.pk, confirmed_at__isnull=True).update(
        confirmed_at=timezone.now())
    if updated:
        logger.info("digest_subscription_confirmed", subscription_id=subscription.pk, recipient=subscription.recipient)
    return bool(updated)


def send_confirmation(*, subscription: DigestSubscription) -> bool:
    """Email the recipient a link to confirm. Returns False (sends nothing) if the subscription was
    confirmed, deactivated or deleted meanwhile."""
    if subscription.is_confirmed or not subscription.active or not subscription.recipient:
        return False
    who = subscription.user.get_username() if subscription.user_id else "staff"
    context = {"subscription": subscription, "confirm_url": confirm_url(subscription), "requested_by": who,
               "days": CONFIRM_MAX_AGE.days, "site_url": settings.PUBLIC_URL}
    message = EmailMultiAlternatives(
        "Confirm your News Tunneler digest subscription", render_to_string("emails/confirm_subscription.txt", context),
        settings.DEFAULT_FROM_EMAIL, [subscription.recipient])
    message.attach_alternative(render_to_string("emails/confirm_subscription.html", context), "text/html")
    message.send(fail_silently=False)
    logger.info("digest_confirmation_sent", subscription_id=subscription.pk, recipient=subscription.recipient)
    return True
