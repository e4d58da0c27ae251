"""/metrics for Prometheus: open to loopback callers, or to a bearer of NT_METRICS_TOKEN."""

import hmac

from django.conf import settings
from django.http import HttpResponseForbidden
from django_prometheus.exports import ExportToDjangoView

LOOPBACK = {"127.0.0.1", "::1"}


def metrics(request):
    token = settings.METRICS_TOKEN
    presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and presented and hmac.compare_digest(presented, token):
        return ExportToDjangoView(request)
    if request.META.get("REMOTE_ADDR") in LOOPBACK and not request.headers.get("X-Forwarded-For"):
        return ExportToDjangoView(request)
    return HttpResponseForbidden("metrics need a bearer token (NT_METRICS_TOKEN)\n", content_type="text/plain")
