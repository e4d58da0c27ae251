"""Outbound HTTP for notifications: the shared, address-pinned client, and the failure the ledger retries."""

import httpx
from django.conf import settings

from newstunneler.netguard import shared_client


class DeliveryFailed(Exception):
    """An outside endpoint did not take a message (retried by the job ledger)."""


def http_client(guarded: bool = True) -> httpx.Client:
    """Webhook URLs come from users: connections go only to vetted public addresses. The Slack URL is
    the operator's own setting (NT_SLACK_WEBHOOK_URL) and may point inside their network."""
    return shared_client("notify" if guarded else "notify-operator", guarded=guarded,
                         headers={"User-Agent": settings.HTTP_USER_AGENT}, timeout=settings.WEBHOOK_TIMEOUT)


def _post(url: str, body: bytes, headers: dict, guarded: bool = True) -> httpx.Response:
    return http_client(guarded).post(url, content=body, headers={"Content-Type": "application/json", **headers})
