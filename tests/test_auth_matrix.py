"""Every API endpoint x every kind of caller -> the status a user would get."""

import json

import pytest
from django.test import Client

from apps.billing import services
from apps.billing.models import Account, Plan
from tests import factories

pytestmark = pytest.mark.django_db

A, V, N, D, R = "anonymous", "viewer", "analyst", "admin", "revoked"
# (method, path, {caller: status}); paths use the ids made in the fixture
MATRIX = [
    ("GET", "/api/v1/articles/", {A: 401, V: 200, N: 200, D: 200, R: 401}),
    ("GET", "/api/v1/articles/{article}/", {A: 401, V: 200, N: 200, D: 200, R: 401}),
    ("GET", "/api/v1/articles/?platform=sec", {A: 401, V: 200, N: 200, D: 200, R: 401}),
    ("GET", "/api/v1/insider-transactions/?open_market=true", {A: 401, V: 200, N: 200, D: 200, R: 401}),
    ("POST", "/api/v1/articles/{article}/analyze/", {A: 401, V: 403, N: 202, D: 202, R: 401}),
    ("GET", "/api/v1/sources/", {A: 401, V: 200, N: 200, D: 200, R: 401}),
    ("POST", "/api/v1/sources/", {A: 401, V: 403, N: 201, D: 201, R: 401}),
    ("GET", "/api/v1/sources/{source}/", {A: 401, V: 200, N: 200, D: 200, R: 401}),
    ("PATCH", "/api/v1/sources/{source}/", {A: 401, V: 403, N: 200, D: 200, R: 401}),
    ("POST", "/api/v1/sources/{source}/poll/", {A: 401, V: 403, N: 202, D: 202, R: 401}),
    # callers go in order: once the analyst deleted it, the admin finds nothing
    ("DELETE", "/api/v1/sources/{doomed}/", {A: 401, V: 403, N: 204, D: 404, R: 401}),
    ("GET", "/api/v1/signals/", {A: 401, V: 200, N: 200, D: 200, R: 401}),
    ("GET", "/api/v1/signals/top/", {A: 401, V: 200, N: 200, D: 200, R: 401}),
    ("GET", "/api/v1/signals/latest/", {A: 401, V: 200, N: 200, D: 200, R: 401}),
    ("GET", "/api/v1/signals/search/?q=AAPL", {A: 401, V: 200, N: 200, D: 200, R: 401}),
    ("GET", "/api/v1/signals/performance/?horizon=5d", {A: 401, V: 403, N: 200, D: 200, R: 401}),
    ("GET", "/api/v1/billing/usage", {A: 401, V: 200, N: 200, D: 200, R: 401}),
    ("GET", "/api/v1/billing/limits", {A: 401, V: 200, N: 200, D: 200, R: 401}),
    # jobs and flags are for staff users (the "admin" role of a key holder is not staff)
    ("GET", "/api/v1/jobs/stats", {A: 401, V: 403, N: 403, D: 403, R: 401}),
    ("GET", "/api/v1/jobs/dead/", {A: 401, V: 403, N: 403, D: 403, R: 401}),
    ("GET", "/api/v1/flags/", {A: 401, V: 403, N: 403, D: 403, R: 401}),
    ("POST", "/api/v1/flags/rss_polling/toggle/", {A: 401, V: 403, N: 403, D: 403, R: 401}),
    # everyone signed in manages their own digest subscriptions; someone else's is not found
    ("GET", "/api/v1/digests/subscriptions/", {A: 401, V: 200, N: 200, D: 200, R: 401}),
    ("POST", "/api/v1/digests/subscriptions/", {A: 401, V: 201, N: 201, D: 201, R: 401}),
    ("GET", "/api/v1/digests/subscriptions/{subscription}/", {A: 401, V: 404, N: 404, D: 404, R: 401}),
    # the live stream also needs the per-user flag alert_stream (targeting no one by default)
    ("GET", "/api/v1/alerts/stream", {A: 401, V: 403, N: 403, D: 403, R: 401}),
    ("GET", "/api/schema/", {A: 401, V: 200, N: 200, D: 200, R: 401}),
    ("GET", "/api/v1/jobs/queues/", {A: 401, V: 403, N: 403, D: 403, R: 401}),
    ("POST", "/api/v1/jobs/queues/default/pause/", {A: 401, V: 403, N: 403, D: 403, R: 401}),
    # analysts read the scoring policy; only staff users change it
    ("GET", "/api/v1/settings/scoring/", {A: 401, V: 403, N: 200, D: 200, R: 401}),
    ("PATCH", "/api/v1/settings/scoring/", {A: 401, V: 403, N: 403, D: 403, R: 401}),
    # every account owner manages their own keys and webhook endpoints
    ("GET", "/api/v1/keys/", {A: 401, V: 200, N: 200, D: 200, R: 401}),
    ("POST", "/api/v1/keys/", {A: 401, V: 201, N: 201, D: 201, R: 401}),
    ("GET", "/api/v1/webhooks/", {A: 401, V: 200, N: 200, D: 200, R: 401}),
    ("POST", "/api/v1/webhooks/", {A: 401, V: 201, N: 201, D: 201, R: 401}),
    ("GET", "/api/v1/webhooks/{webhook}/", {A: 401, V: 404, N: 404, D: 404, R: 401}),
]


@pytest.fixture
def keys(django_user_model):
    from apps.billing.roles import ensure_roles

    groups = ensure_roles()
    plan = Plan.objects.get(name="enterprise")
    made = {}
    for role in ("viewer", "analyst", "admin"):
        user = django_user_model.objects.create_user(username=f"key-{role}", password="x")
        user.groups.add(groups[role])
        account = Account.objects.create(owner=user, name=f"{role} co", plan=plan)
        made[role] = services.api_key_create(account=account, name=role)[1]
    row, made["revoked"] = services.api_key_create(account=account, name="old")
    services.api_key_revoke(key=row)
    return made


@pytest.fixture
def ids():
    article = factories.article("Apple (NASDAQ: AAPL) beats estimates and raises guidance", analyse=True)
    from apps.signals.models import DigestSubscription, WebhookEndpoint

    theirs = DigestSubscription.objects.create(email="someone-else@example.com", frequency="daily")
    hook = WebhookEndpoint.objects.create(name="staff's", url="https://ops.example.com/h", event_types=["job.dead"])
    return {"article": article.pk, "source": factories.source().pk, "doomed": factories.source().pk,
            "subscription": theirs.pk, "webhook": hook.pk}


BODIES = {("POST", "/api/v1/sources/"): {"url": "https://feeds.example.org/{caller}.xml"},
          ("PATCH", "/api/v1/sources/{source}/"): {"enabled": False},
          ("POST", "/api/v1/digests/subscriptions/"): {"email": "{caller}@example.com", "frequency": "weekly"},
          ("PATCH", "/api/v1/settings/scoring/"): {"alert_threshold": 3},
          ("POST", "/api/v1/keys/"): {"name": "{caller}'s bot"},
          ("POST", "/api/v1/webhooks/"): {"name": "{caller}", "url": "https://hooks.example.com/{caller}",
                                          "event_types": ["signal.created"]}}


@pytest.mark.parametrize(("method", "path", "expected"), MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX])
def test_auth_matrix(method, path, expected, keys, ids):
    for caller, status in expected.items():
        client = Client()
        headers = {} if caller == A else {"Authorization": f"Api-Key {keys[caller]}"}
        body = BODIES.get((method, path))
        if body:
            body = {k: v.format(caller=caller) if isinstance(v, str) else v for k, v in body.items()}
        response = client.generic(method, path.format(**ids), data=json.dumps(body) if body else "",
                                  content_type="application/json", headers=headers)
        assert response.status_code == status, f"{caller}: {response.status_code} {response.content[:200]!r}"
        if status != 204:
            assert response["Content-Type"].startswith(("application/json", "application/vnd.oai.openapi")), caller
