"""API consumers manage their own webhook endpoints through the API; deliveries reach them signed with the
secret they were shown once; operations events never go to a consumer's endpoint."""

import hashlib
import hmac

import pytest

from apps.billing.models import Account, Plan
from apps.billing.services import api_key_create
from apps.flags import services as flags
from apps.signals import notify
from apps.signals.models import WebhookEndpoint
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def key(viewer):
    plan = Plan.objects.get_or_create(name="hooks", defaults={"requests_per_minute": 600, "requests_per_day": 10_000,
                                                               "analyses_per_month": 10})[0]
    return api_key_create(account=Account.objects.create(owner=viewer, name="Hooks", plan=plan), name="k")[1]


def _call(client, key, method, url, data=None):
    return getattr(client, method)(url, data=data, headers={"Authorization": f"Api-Key {key}"},
                                   content_type="application/json")


def test_a_consumer_registers_an_endpoint_and_gets_signed_signal_events(client, key, viewer, httpserver, run_jobs):
    flags.flag_set(name="webhook_notifications", enabled=True)
    httpserver.expect_request("/mine", method="POST").respond_with_data("ok", status=200)
    created = _call(client, key, "post", "/api/v1/webhooks/",
                    {"name": "my desk", "url": httpserver.url_for("/mine"), "event_types": ["signal.created"]})
    assert created.status_code == 201, created.json()
    secret = created.json()["secret"]
    assert len(secret) >= 32 and WebhookEndpoint.objects.get().owner == viewer
    listed = _call(client, key, "get", "/api/v1/webhooks/").json()["results"]
    assert [e["name"] for e in listed] == ["my desk"] and "secret" not in listed[0]  # shown once

    from apps.articles.models import ScoringPolicy

    ScoringPolicy.objects.update_or_create(pk=1, defaults={"signal_alert_score": 0})
    factories.article("Microsoft (NASDAQ: MSFT) wins record cloud contract", analyse=True)
    run_jobs()
    (request, _), = [entry for entry in httpserver.log if entry[0].path == "/mine"]
    parts = dict(item.split("=", 1) for item in request.headers["X-NT-Signature"].split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + request.get_data(), hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected) and request.headers["X-NT-Event"] == "signal.created"

    endpoint_id = created.json()["id"]
    rotated = _call(client, key, "patch", f"/api/v1/webhooks/{endpoint_id}/", {"rotate_secret": True})
    assert rotated.status_code == 200 and rotated.json()["secret"] not in (secret, None)
    assert _call(client, key, "patch", f"/api/v1/webhooks/{endpoint_id}/", {"enabled": False}).json()["enabled"] is False
    assert _call(client, key, "delete", f"/api/v1/webhooks/{endpoint_id}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_bad_endpoints_are_refused_naming_the_field(client, key, analyst):
    staffs = WebhookEndpoint.objects.create(name="ops", url="https://ops.example.com/hook", event_types=["job.dead"])
    for body, field in [({"name": "x", "url": "ftp://example.com/x", "event_types": ["signal.created"]}, "url"),
                        ({"name": "x", "url": "https://example.com/x", "event_types": ["job.dead"]}, "event_types"),
                        ({"name": "x", "url": "https://example.com/x", "event_types": []}, "event_types"),
                        ({"url": "https://example.com/x", "event_types": ["signal.created"]}, "name")]:
        answer = _call(client, key, "post", "/api/v1/webhooks/", body)
        assert answer.status_code == 400 and field in answer.json()["errors"], (body, answer.json())
    for method in ("get", "patch", "delete"):  # staff's endpoint is not theirs: not even its existence
        assert _call(client, key, method, f"/api/v1/webhooks/{staffs.pk}/", {}).status_code == 404


def test_operations_events_go_to_staffs_endpoints_only(viewer):
    flags.flag_set(name="webhook_notifications", enabled=True)
    WebhookEndpoint.objects.create(name="consumer", owner=viewer, url="https://c.example.com/h", event_types=["job.dead"])
    WebhookEndpoint.objects.create(name="ops", url="https://ops.example.com/h", event_types=["job.dead"])
    assert notify.emit("job.dead", {"job_id": "x"}) == 1  # the staff one
