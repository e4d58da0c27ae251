"""websocket_v2: the live alert stream over WebSocket (Django Channels, served by the ASGI server
`make run` and compose start: newstunneler/asgi.py, NT_WS_BIND).

`ws://<NT_WS_BIND>/ws/v2/alerts/` carries the SSE stream's events: each new strong signal as
`{"type": "signal", "id": <signal id>, "data": {…the signals API's fields…}}`. Connect with
`?last_id=<the last id you got>` to first get the strong signals you missed (the SSE stream's replay:
up to 100, of the last hour), then the live ones, none twice.

Who may connect: an `Authorization: Api-Key …` header (scripts), or the session of a user signed in
to this site (a browser page of this site: the Origin must be one of NT_ALLOWED_HOSTS), whose role
reads signals and for whom the per-user flag websocket_v2 is on. A refused client is accepted, told
why (`{"type": "error", "code", "detail"}`), and closed with 4401 (not signed in) or 4403.

Strong signals reach every ASGI process through the channel layer (channels-redis, pub/sub on the
project's Redis): publish() sends to the group "alerts"."""

import json
from urllib.parse import parse_qs, urlsplit

import structlog
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.http.request import validate_host

from newstunneler import telemetry
from newstunneler.api import parse_id

logger = structlog.get_logger(__name__)
GROUP = "alerts"


def publish(payloads: list[dict]) -> None:
    """Send strong signals to every WebSocket client, in every ASGI process (one event loop for the
    batch). Best effort, as the SSE stream: the signals themselves are stored either way."""
    if not payloads:
        return

    async def send_all():
        layer = get_channel_layer()
        for payload in payloads:
            await layer.group_send(GROUP, {"type": "alert.signal", "id": payload.get("id"), "data": json.dumps(payload)})

    try:
        async_to_sync(send_all)()
        telemetry.NOTIFICATIONS.labels("websocket", "sent").inc(len(payloads))
    except Exception as exc:  # noqa: BLE001 - never fail the job that built the signal
        telemetry.NOTIFICATIONS.labels("websocket", "failed").inc(len(payloads))
        telemetry.error("notify", exc)
        logger.warning("alert_websocket_publish_failed", error=str(exc), signal_ids=[p.get("id") for p in payloads])


class Refused(Exception):
    def __init__(self, close_code: int, code: str, detail: str):
        super().__init__(detail)
        self.close_code, self.code, self.detail = close_code, code, detail


def _header(scope, name: bytes) -> str:
    return next((value.decode("latin-1") for key, value in scope.get("headers", ()) if key == name), "")


def _same_site(scope) -> bool:
    origin = _header(scope, b"origin")
    host = urlsplit(origin).hostname if origin else None
    return bool(host) and validate_host(host, settings.ALLOWED_HOSTS)


def authorize(scope):
    """The user this connection acts for, or Refused saying why (runs in a thread: database, cache)."""
    from rest_framework.exceptions import AuthenticationFailed

    from apps import flags
    from apps.billing.authentication import key_owner
    from apps.billing.permissions import role_permissions

    scheme, _, key = _header(scope, b"authorization").partition(" ")
    if scheme == "Api-Key":
        try:
            user, _ = key_owner(key)
        except AuthenticationFailed as exc:
            raise Refused(4401, "authentication_failed", str(exc.detail)) from None
    else:
        user = scope.get("user")
        if user is None or not user.is_authenticated:
            raise Refused(4401, "not_authenticated",
                          "Send `Authorization: Api-Key <key>`, or connect from a page of this site while signed in.")
        if not _same_site(scope):  # a session is a browser's: only this site's own pages may use it
            raise Refused(4403, "origin", "A session may connect only from this site's own pages (Origin).")
    if not (user.is_superuser or "signals.view_signal" in role_permissions(user)):
        raise Refused(4403, "permission_denied", "Your role lacks: signals.view_signal.")
    if not flags.is_enabled("websocket_v2", user=user):
        raise Refused(4403, "flag_off", "The WebSocket alert stream is not enabled for you (flag websocket_v2).")
    return user


class AlertConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.replayed: set = set()
        await self.accept()
        try:
            query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
            last_id = (query.get("last_id") or [""])[0].strip()
            if last_id and parse_id(last_id) is None:
                raise Refused(4400, "invalid", "last_id: a signal id (what the stream sent as `id`).")
            self.user = await database_sync_to_async(authorize)(self.scope)
        except Refused as refused:
            await self.send_json({"type": "error", "code": refused.code, "detail": refused.detail})
            await self.close(code=refused.close_code)
            return
        from apps.signals.notify.alerts import missed_since  # (alerts imports this module to publish)

        await self.channel_layer.group_add(GROUP, self.channel_name)  # before the replay: nothing falls in between
        missed = await database_sync_to_async(missed_since)(parse_id(last_id)) if last_id else []
        await self.send_json({"type": "connected", "replaying": len(missed)})
        for payload in missed:
            self.replayed.add(payload["id"])
            await self.send_json({"type": "signal", "id": payload["id"], "data": payload})
        logger.info("alert_websocket_connected", user_id=self.user.pk, replayed=len(missed))

    async def disconnect(self, code):
        await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def alert_signal(self, event):
        if event.get("id") in self.replayed:  # (published while the replay was read)
            return
        await self.send_json({"type": "signal", "id": event.get("id"), "data": json.loads(event["data"])})
