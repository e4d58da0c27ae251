"""Plan quotas as a DRF throttle: runs after authentication on every API view."""

from django.utils import timezone
from rest_framework.throttling import BaseThrottle

from apps.billing import metering
from apps.billing.models import ApiKey
from apps.billing.refunds import on_refusal


class PlanQuota(BaseThrottle):
    """Meters requests made with an API key and applies the plan (see apps/billing/metering.py): its
    request limits (429), its features (a view's `plan_feature`: 403 naming it when the plan lacks it).
    A view with `metered_action = "analysis"` also needs room in the month's analyses and LLM budget,
    counts one analysis (given back if the view then refuses the request: 404, 400, ...), and gets the
    provider the plan allows as `request.analysis_provider`. Session (staff) requests are neither
    metered nor limited."""

    def allow_request(self, request, view):
        if not isinstance(request.auth, ApiKey):
            return True
        key = request.auth
        # raises QuotaExceeded (429) when over; counted already if authentication did it with the key's read
        metering.check_and_count(key, counted=getattr(key, "nt_counted", None))
        feature = getattr(view, "plan_feature", None)
        if feature and not key.account.plan.includes(feature):
            raise metering.PlanFeatureMissing(key.account.plan, feature)
        if getattr(view, "metered_action", None) == "analysis" and request.method == "POST":
            account_id, now = key.account_id, timezone.now()
            asked = request.data.get("provider") if hasattr(request.data, "get") else None
            request.analysis_provider = metering.reserve_analysis(
                key, asked if asked in (None, "llm") else "offline", now)
            on_refusal(request, lambda: metering.record(account_id, "analyses", -1, now))
        return True
