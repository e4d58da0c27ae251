"""Plan quotas as a DRF throttle: runs after authentication on every API view."""

from django.utils import timezone
from rest_framework.throttling import BaseThrottle

from apps.billing import metering
from apps.billing.models import ApiKey
from newstunneler.api import on_refusal


class PlanQuota(BaseThrottle):
    """Meters requests made with an API key and applies the plan's limits (see apps/billing/metering.py).
    A view with `metered_action = "analysis"` also needs room in the month's analyses and LLM budget,
    and counts one analysis, given back if the view then refuses the request (404, 400, ...).
    Session (staff) requests are neither metered nor limited."""

    def allow_request(self, request, view):
        if isinstance(request.auth, ApiKey):
            metering.check_and_count(request.auth)  # raises QuotaExceeded (429) when over
            if getattr(view, "metered_action", None) == "analysis" and request.method == "POST":
                account_id, now = request.auth.account_id, timezone.now()
                metering.reserve_analysis(request.auth, now)
                on_refusal(request, lambda: metering.record(account_id, "analyses", -1, now))
        return True
