"""/metrics for Prometheus: open to loopback callers, or to a bearer of NT_METRICS_TOKEN."""

import hmac
import os

import prometheus_client
from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.utils.module_loading import import_string
from prometheus_client import multiprocess

LOOPBACK = {"127.0.0.1", "::1"}


def metrics(request):
    token = settings.METRICS_TOKEN
    presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if token and presented and hmac.compare_digest(presented, token):
        return export()
    if request.META.get("REMOTE_ADDR") in LOOPBACK and not request.headers.get("X-Forwarded-For"):
        return export()
    return HttpResponseForbidden("metrics need a bearer token (NT_METRICS_TOKEN)\n", content_type="text/plain")


def export() -> HttpResponse:
    """Under gunicorn (newstunneler/gunicorn_conf.py) every web worker's samples, added up, plus the
    collectors computed at scrape time (settings.METRICS_SCRAPE_COLLECTORS, e.g. the job ledger's
    gauges); elsewhere this process' registry, which holds both."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        for path in settings.METRICS_SCRAPE_COLLECTORS:
            registry.register(import_string(path)())
    else:
        registry = prometheus_client.REGISTRY
    return HttpResponse(prometheus_client.generate_latest(registry), content_type=prometheus_client.CONTENT_TYPE_LATEST)
