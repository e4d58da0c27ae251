"""Pages reached from emails: the one-click unsubscribe link and the subscription confirmation link."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.signals import digests, subscriptions


@csrf_exempt  # the signed token is the authority; mail clients POST here for one-click unsubscribe (RFC 8058)
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET asks for confirmation (link scanners open links; they must not unsubscribe anyone);
    POST unsubscribes."""
    subscription = digests.subscription_for_token(token)
    if subscription is None:
        return render(request, "signals/email_link.html", status=400, context={
            "title": "This link is not valid",
            "message": "It may have been cut short by your mail program. Open it from the email again."})
    if request.method == "GET":
        return render(request, "signals/email_link.html", context={
            "title": "Unsubscribe?", "confirm": True, "subscription": subscription,
            "message": f"Stop the {subscription.frequency} digest to {subscription.recipient}?"})
    if subscription.active:
        subscription.active = False
        subscription.unsubscribed_at = timezone.now()
        subscription.save(update_fields=["active", "unsubscribed_at"])
    return render(request, "signals/email_link.html", context={
        "title": "You are unsubscribed",
        "message": f"{subscription.recipient} will get no more {subscription.frequency} digests."})


@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    """GET asks (link scanners open links; they must not confirm anything); POST confirms."""
    subscription = subscriptions.subscription_for_confirm_token(token)
    if subscription is None or not subscription.active:
        return render(request, "signals/email_link.html", status=400, context={
            "title": "This link is not valid",
            "message": "It may have expired (links last 7 days), been cut short by your mail program, or the "
                       "subscription changed or ended since. Nothing will be sent to you."})
    if request.method == "GET" and not subscription.is_confirmed:
        return render(request, "signals/email_link.html", context={
            "title": "Confirm the subscription?", "confirm": True, "button": f"Send me the {subscription.frequency} digest",
            "message": f"Send a {subscription.frequency} digest of trading signals to {subscription.recipient}?"})
    subscriptions.subscription_confirm(subscription=subscription)
    return render(request, "signals/email_link.html", context={
        "title": "Subscription confirmed",
        "message": f"{subscription.recipient} will get the {subscription.frequency} digest. Every digest has a "
                   "one-click unsubscribe link."})
