import pytest
from django.utils import timezone

from apps.billing import metering, services
from apps.billing.models import Account, Plan, UsageRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(viewer):
    return Account.objects.create(owner=viewer, name="Acme", plan=Plan.objects.get(name="free"))


def _get(client, key, url):
    return client.get(url, headers={"Authorization": f"Api-Key {key}"})


def test_usage_counts_flushed_and_pending_requests(client, account):
    _, key = services.api_key_create(account=account, name="bot")
    for _ in range(3):
        _get(client, key, "/api/v1/signals/")
    metering.flush_usage()
    _get(client, key, "/api/v1/signals/")
    body = _get(client, key, "/api/v1/billing/usage").json()
    today = timezone.now().date().isoformat()
    # 3 flushed + the 4th + this usage call itself, still pending
    assert body["metrics"]["requests"]["by_day"][today] == 5 and body["plan"] == "free"


def test_limits_show_what_remains(client, account):
    _, key = services.api_key_create(account=account, name="bot")
    _get(client, key, "/api/v1/signals/")
    body = _get(client, key, "/api/v1/billing/limits").json()
    assert body["requests_per_minute"] == {"limit": 30, "used": 2, "remaining": 28}
    assert body["requests_per_day"]["used"] == 2 and body["analyses_per_month"]["limit"] == 50


def test_past_month_and_bad_periods(client, account):
    _, key = services.api_key_create(account=account, name="bot")
    UsageRecord.objects.create(account=account, day="2026-10-03", metric="requests", quantity=7)
    body = _get(client, key, "/api/v1/billing/usage?period=2026-10").json()
    assert body["period"] == "2026-10" and body["metrics"]["requests"] == {"total": 7.0, "by_day": {"2026-10-03": 7.0}}
    for bad in ["2026-13", "last", "2026-1"]:
        response = _get(client, key, f"/api/v1/billing/usage?period={bad}")
        assert response.status_code == 400 and "period" in response.json()["errors"], bad


def test_staff_may_ask_for_any_account_others_may_not(client, admin_client, account, analyst):
    assert admin_client.get(f"/api/v1/billing/limits?account={account.pk}").json()["account"] == "Acme"
    other = Account.objects.create(owner=analyst, name="Other", plan=Plan.objects.get(name="pro"))
    _, key = services.api_key_create(account=other, name="bot")
    from django.test import Client

    assert _get(Client(), key, f"/api/v1/billing/usage?account={account.pk}").status_code == 403
    assert Client().get("/api/v1/billing/usage").status_code == 401


def test_a_user_without_an_account_gets_404(client, analyst):
    client.force_login(analyst)
    response = client.get("/api/v1/billing/limits")
    assert response.status_code == 404 and response.json() == {"detail": "No account.", "code": "not_found"}
