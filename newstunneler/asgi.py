"""The ASGI application: Django's HTTP views, and the WebSocket alert stream (Django Channels,
apps/signals/notify/websocket.py) at /ws/v2/alerts/. `make run` and compose serve it with uvicorn
(NT_WS_BIND); the rest of the site is served by gunicorn (WSGI) as before."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newstunneler.settings")
django_application = get_asgi_application()  # sets Django up before the consumers are imported

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

from apps.signals.notify.websocket import AlertConsumer  # noqa: E402

application = ProtocolTypeRouter({
    "http": django_application,
    "websocket": AuthMiddlewareStack(URLRouter([path("ws/v2/alerts/", AlertConsumer.as_asgi())])),
})
