"""Pages reached from emails: the one-click unsubscribe link."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from apps.signals import digests


@csrf_exempt  # the signed token is the authority; mail clients POST here for one-click unsubscribe (RFC 8058)
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET asks for confirmation (link scanners open links; they must not unsubscribe anyone);
    POST unsubscribes."""
    subscription = digests.subscription_for_token(token)
    if subscription is None:
        return render(request, "signals/unsubscribe.html", status=400, context={
            "title": "This link is not valid",
            "message": "It may have been cut short by your mail program. Open it from the email again."})
    if request.method == "GET":
        return render(request, "signals/unsubscribe.html", context={
            "title": "Unsubscribe?", "confirm": True, "subscription": subscription,
            "message": f"Stop the {subscription.frequency} digest to {subscription.recipient}?"})
    if subscription.active:
        subscription.active = False
        subscription.unsubscribed_at = timezone.now()
        subscription.save(update_fields=["active", "unsubscribed_at"])
    return render(request, "signals/unsubscribe.html", context={
        "title": "You are unsubscribed",
        "message": f"{subscription.recipient} will get no more {subscription.frequency} digests."})
