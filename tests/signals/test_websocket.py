"""websocket_v2 with a real client (the websockets library) against a live ASGI server (uvicorn, as
`make run` starts it) in embedded mode: who may connect, the SSE stream's events as they are
announced by another process, and the replay of missed ones after a reconnect."""

import json
import subprocess
import sys

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.processes import ROOT, embedded_env, embedded_redis_cleanup, free_port, manage, wait_for

pytestmark = pytest.mark.slow

SETUP = """
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore
from waffle.models import Flag
from apps.billing import services
from apps.billing.models import Account, Plan
from apps.billing.roles import ensure_roles
roles = ensure_roles()
for name in ("ann", "bob"):
    user = User.objects.create_user(name, password="x-" + name * 8)
    user.groups.add(roles["viewer"])
    account = Account.objects.create(owner=user, name=name, plan=Plan.objects.get(name="free"))
    print(services.api_key_create(account=account, name="ws")[1])
Flag.objects.filter(name="websocket_v2").get().users.add(User.objects.get(username="ann"))
session = SessionStore()
session["_auth_user_id"] = str(User.objects.get(username="ann").pk)
session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
session["_auth_user_hash"] = User.objects.get(username="ann").get_session_auth_hash()
session.create()
print(session.session_key)
"""

ANNOUNCE = """
from datetime import timedelta
from django.utils import timezone
from apps.signals.models import Signal
from apps.signals.notify import announce
ids = []
for symbol in {symbols!r}:
    ids.append(Signal.objects.create(symbol=symbol, t=timezone.now() - timedelta(minutes=1), score=90,
                                     label="High-Conviction", stance="BULLISH").pk)
announce(ids)
print(" ".join(map(str, ids)))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    var = tmp_path_factory.mktemp("ws")
    port = free_port()
    env = embedded_env(var, NT_WS_BIND=f"127.0.0.1:{port}")
    with embedded_redis_cleanup(var):
        manage("migrate", "--noinput", "-v", "0", env=env)
        ann_key, bob_key, session = manage("shell", "-v", "0", "-c", SETUP, env=env).stdout.split()[-3:]
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "newstunneler.asgi:application", "--host", "127.0.0.1", "--port", str(port),
             "--ws", "websockets", "--lifespan", "off", "--no-access-log"],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            healthy = lambda: manage("healthcheck", "ws", env=env, check=False).returncode == 0  # noqa: E731
            wait_for(healthy, timeout=30, what="the ASGI server's /readyz", every=0.5)
            yield {"url": f"ws://127.0.0.1:{port}/ws/v2/alerts/", "ann": ann_key, "bob": bob_key, "session": session,
                   "env": env, "port": port}
        finally:
            process.terminate()
            process.wait(10)


def _announce(server, *symbols) -> list[int]:
    return [int(i) for i in manage("shell", "-v", "0", "-c", ANNOUNCE.format(symbols=list(symbols)),
                                   env=server["env"]).stdout.split()]


def _refusal(url, **options):
    with connect(url, open_timeout=10, **options) as socket:
        message = json.loads(socket.recv(timeout=10))
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=10)
        return message, socket.close_code


def test_who_may_connect(server):
    message, code = _refusal(server["url"])
    assert (message["code"], code) == ("not_authenticated", 4401)
    message, code = _refusal(server["url"], additional_headers={"Authorization": "Api-Key nt_not_a_key"})
    assert code == 4401 and message["type"] == "error"
    message, code = _refusal(server["url"], additional_headers={"Authorization": f"Api-Key {server['bob']}"})
    assert (message["code"], code) == ("flag_off", 4403) and "websocket_v2" in message["detail"]
    # A session, but from another site's page: refused (cross-site WebSocket hijacking).
    message, code = _refusal(server["url"], additional_headers={"Cookie": f"sessionid={server['session']}"},
                             origin="https://evil.example")
    assert (message["code"], code) == ("origin", 4403)
    message, code = _refusal(server["url"] + "?last_id=abc", additional_headers={"Authorization": f"Api-Key {server['ann']}"})
    assert (message["code"], code) == ("invalid", 4400)


def test_live_events_and_the_replay_after_a_reconnect(server):
    headers = {"Authorization": f"Api-Key {server['ann']}"}
    with connect(server["url"], additional_headers=headers, open_timeout=10) as socket:
        assert json.loads(socket.recv(timeout=10)) == {"type": "connected", "replaying": 0}
        (first,) = _announce(server, "NVDA")
        event = json.loads(socket.recv(timeout=15))
        assert event["type"] == "signal" and event["id"] == first
        assert event["data"]["symbol"] == "NVDA" and event["data"]["score"] == 90 and event["data"]["id"] == first
    missed = _announce(server, "AMD", "TSLA")  # while disconnected
    with connect(f"{server['url']}?last_id={first}", additional_headers=headers, open_timeout=10) as socket:
        assert json.loads(socket.recv(timeout=10)) == {"type": "connected", "replaying": 2}
        replayed = [json.loads(socket.recv(timeout=10)) for _ in missed]
        assert [e["id"] for e in replayed] == missed and [e["data"]["symbol"] for e in replayed] == ["AMD", "TSLA"]
        (live,) = _announce(server, "MSFT")
        assert json.loads(socket.recv(timeout=15))["id"] == live  # then live ones, none twice
        socket.send(json.dumps({"type": "ping"}))
        assert json.loads(socket.recv(timeout=10)) == {"type": "pong"}


def test_a_signed_in_browser_page_of_this_site_may_connect(server):
    with connect(server["url"], additional_headers={"Cookie": f"sessionid={server['session']}"},
                 origin=f"http://127.0.0.1:{server['port']}", open_timeout=10) as socket:
        assert json.loads(socket.recv(timeout=10))["type"] == "connected"
