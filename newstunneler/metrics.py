"""/metrics for Prometheus: with NT_METRICS_TOKEN set, only to a bearer of it (loopback included);
without, only to loopback callers. The caller's address is REMOTE_ADDR, unless that is one of
NT_TRUSTED_PROXIES: then the nearest address in X-Forwarded-For that is not a trusted proxy (a proxy
that sends none leaves the caller unknown: refused)."""

import hmac
import ipaddress
import os

import prometheus_client
from django.conf import settings
from django.http import HttpResponse, HttpResponseForbidden
from django.utils.module_loading import import_string
from prometheus_client import multiprocess


def metrics(request):
    token = settings.METRICS_TOKEN
    if token:
        presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if presented and hmac.compare_digest(presented.encode(), token.encode()):
            return export()
        return HttpResponseForbidden("metrics need the bearer token (NT_METRICS_TOKEN)\n", content_type="text/plain")
    client = client_address(request)
    if client is not None and client.is_loopback:
        return export()
    return HttpResponseForbidden("metrics are served to loopback only; set NT_METRICS_TOKEN to scrape from elsewhere\n",
                                 content_type="text/plain")


def _address(text: str):
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(address) -> bool:
    return any(address in network for network in settings.TRUSTED_PROXIES)


def client_address(request):
    """Who is asking: REMOTE_ADDR, or behind trusted proxies the nearest untrusted X-Forwarded-For
    entry. None when it cannot be told (no address, or a trusted proxy that named no client)."""
    remote = _address(request.META.get("REMOTE_ADDR", ""))
    if remote is None or not _trusted(remote):
        return remote
    forwarded = [_address(part) for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    for address in reversed(forwarded):
        if address is None:
            return None  # a garbled entry: the chain cannot be trusted past it
        if not _trusted(address):
            return address
    return forwarded[0] if forwarded else None


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
