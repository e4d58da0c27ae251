"""DNS rebinding: a host that answers a public address to the SSRF check and loopback to the
connection is refused, for feeds, every redirect hop and webhooks; the connection goes to the address
that was checked.

Two local servers stand in for the two sides: "outside" on 127.0.0.2 (counted as a public address here)
and "internal" on 127.0.0.1 (the loopback a rebinding host would reach). The resolver is patched the
way a rebinding DNS answers: the stand-in public address first, loopback every time after."""

import socket

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from apps.articles import polling
from apps.articles.models import Article, Source
from apps.jobs.errors import PermanentError
from apps.signals import notify
from apps.signals.models import WebhookDelivery, WebhookEndpoint
from newstunneler import netguard
from tests.articles.feedfactory import rss

pytestmark = pytest.mark.django_db

PUBLIC_STANDIN = "127.0.0.2"


@pytest.fixture
def outside():
    server = HTTPServer(host=PUBLIC_STANDIN, port=0)
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def internal(httpserver):
    return httpserver  # 127.0.0.1


@pytest.fixture
def dns(monkeypatch, settings):
    """Guard on; `dns.rebinding(name)`: first answer the stand-in public address, then loopback;
    `dns.fixed(name)`: always the stand-in."""
    settings.ALLOW_PRIVATE_URLS = False
    real_resolve, real_is_public = socket.getaddrinfo, netguard._is_public
    answers: dict[str, list[str]] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host not in answers:
            return real_resolve(host, port, *args, **kwargs)
        queue = answers[host]
        address = queue.pop(0) if len(queue) > 1 else queue[0]
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(netguard, "_is_public", lambda address: str(address) == PUBLIC_STANDIN or real_is_public(address))

    class Dns:
        def rebinding(self, name):
            answers[name] = [PUBLIC_STANDIN, "127.0.0.1"]

        def fixed(self, name):
            answers[name] = [PUBLIC_STANDIN]

    return Dns()


def _poll(url):
    source = Source.objects.create(url=url, name="feed")
    polling.source_poll(source=source)
    source.refresh_from_db()
    return source


def test_a_rebinding_feed_host_is_refused_and_loopback_never_reached(dns, internal):
    dns.rebinding("rebind.test")
    internal.expect_request("/feed").respond_with_data(rss([{"title": "Internal secret", "link": "https://i.example/1"}]))
    source = _poll(f"http://rebind.test:{internal.port}/feed")
    assert source.last_error_kind == "blocked_address"
    assert "rebind.test resolves to 127.0.0.1" in source.last_error
    assert internal.log == [] and not Article.objects.exists()


def test_a_redirect_hop_to_a_rebinding_host_is_refused(dns, outside, internal):
    dns.fixed("hop.test")
    dns.rebinding("rebind.test")
    outside.expect_request("/start").respond_with_response(
        Response(status=302, headers={"Location": f"http://rebind.test:{internal.port}/secret"}))
    internal.expect_request("/secret").respond_with_data(rss([{"title": "Internal", "link": "https://i.example/2"}]))
    source = _poll(f"http://hop.test:{outside.port}/start")
    assert [request.path for request, _ in outside.log] == ["/start"]
    assert source.last_error_kind == "blocked_address" and "127.0.0.1" in source.last_error
    assert internal.log == []


def test_a_host_that_stays_public_is_fetched_from_the_checked_address(dns, outside):
    dns.fixed("wire.test")
    outside.expect_request("/feed").respond_with_data(rss([{"title": "Fine story", "link": "https://w.example/1"}]))
    source = _poll(f"http://wire.test:{outside.port}/feed")
    assert source.last_error == "" and Article.objects.get().title == "Fine story"
    (request, _), = outside.log
    assert request.headers["Host"] == f"wire.test:{outside.port}"  # the name, though the address was pinned


def test_a_rebinding_webhook_host_is_refused(dns, internal):
    dns.rebinding("hook.test")
    internal.expect_request("/hook").respond_with_data("ok")
    endpoint = WebhookEndpoint.objects.create(name="desk", url=f"http://hook.test:{internal.port}/hook",
                                              secret="s", event_types=["signal.created"])
    with pytest.raises(PermanentError, match="refused"):
        notify.deliver(endpoint.pk, notify.new_event("signal.created", {"id": 1}))
    assert internal.log == []
    assert "hook.test resolves to 127.0.0.1" in WebhookDelivery.objects.get().error
