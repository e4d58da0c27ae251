"""Metering and plan quotas for API-key requests, with the real Redis of the mode under test."""

import threading
from datetime import timedelta

import httpx
import pytest
from django.utils import timezone

from apps.billing import metering, services
from apps.billing.models import Account, Plan, UsageRecord
from apps.flags import services as flag_services


@pytest.fixture
def tiny_plan(db):
    return Plan.objects.create(name="tiny", requests_per_minute=2, requests_per_day=5, analyses_per_month=1,
                               llm_budget_usd=0)


@pytest.fixture
def key(viewer, tiny_plan):
    account = Account.objects.create(owner=viewer, name="Tiny Co", plan=tiny_plan)
    return services.api_key_create(account=account, name="bot")[1]


def _get(client, key):
    return client.get("/api/v1/signals/", headers={"Authorization": f"Api-Key {key}"})


@pytest.mark.django_db
def test_requests_are_counted_and_flushed_into_usage_records(client, key):
    for _ in range(2):
        assert _get(client, key).status_code == 200
    assert metering.flush_usage() == 1
    (row,) = UsageRecord.objects.all()
    assert (row.metric, row.quantity, row.day) == ("requests", 2, timezone.now().date())
    _get(client, key)
    metering.flush_usage()
    assert UsageRecord.objects.get().quantity == 2 + 0  # the third was over the per-minute limit: refused, not counted


@pytest.mark.django_db
def test_over_the_minute_limit_is_429_with_retry_after_and_the_next_minute_is_allowed(client, key, monkeypatch):
    assert [_get(client, key).status_code for _ in range(2)] == [200, 200]
    _get(client, key)
    refused = _get(client, key)  # refusals do not count: "used" stays at the limit
    assert refused.status_code == 429
    body = refused.json()
    assert (body["limit"], body["used"]) == (2, 2) and "per minute" in body["detail"]
    assert 1 <= int(refused["Retry-After"]) <= 61
    later = timezone.now() + timedelta(seconds=61)
    monkeypatch.setattr(metering.timezone, "now", lambda: later)
    assert _get(client, key).status_code == 200


@pytest.mark.django_db
def test_over_the_day_limit(client, key, monkeypatch):
    start = timezone.now().replace(hour=10, minute=0)
    for n in range(5):
        moment = start + timedelta(minutes=n)
        monkeypatch.setattr(metering.timezone, "now", lambda moment=moment: moment)
        assert _get(client, key).status_code == 200
    monkeypatch.setattr(metering.timezone, "now", lambda: start + timedelta(minutes=10))
    refused = _get(client, key)
    assert refused.status_code == 429 and refused.json()["limit"] == 5 and "per day" in refused.json()["detail"]
    assert refused.json()["resets_at"].startswith((start + timedelta(days=1)).date().isoformat())


@pytest.mark.django_db(transaction=True)
def test_rate_limiting_off_meters_but_never_refuses(client, key):
    flag_services.flag_set(name="rate_limiting", enabled=False)
    assert [_get(client, key).status_code for _ in range(4)] == [200] * 4
    metering.flush_usage()
    assert UsageRecord.objects.get().quantity == 4


@pytest.mark.django_db
def test_session_requests_are_not_metered(client, viewer):
    client.force_login(viewer)
    for _ in range(5):
        assert client.get("/api/v1/signals/").status_code == 200
    assert metering.flush_usage() == 0


def test_concurrent_requests_are_counted_exactly(live_server, viewer, django_user_model):
    plan = Plan.objects.create(name="roomy", requests_per_minute=1000, requests_per_day=10_000,
                               analyses_per_month=1, llm_budget_usd=0)
    account = Account.objects.create(owner=viewer, name="Busy Co", plan=plan)
    _, key = services.api_key_create(account=account, name="bot")
    statuses, lock = [], threading.Lock()

    def hammer():
        with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Api-Key {key}"}) as http:
            for _ in range(5):
                code = http.get("/api/v1/signals/").status_code
                with lock:
                    statuses.append(code)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert statuses.count(200) == 40
    metering.flush_usage()
    assert UsageRecord.objects.get(account=account, metric="requests").quantity == 40


@pytest.mark.django_db
def test_a_known_keys_request_is_counted_with_the_key_read_and_a_bad_secret_counts_nothing(client, key):
    """Once this process knows a key's account, authentication counts the request in the round trip
    that reads the key; a wrong secret, a revoked key or one of another account is taken back."""
    from apps.billing import authentication
    from apps.billing.models import ApiKey

    authentication._accounts.clear()
    assert _get(client, key).status_code == 200  # learns the account (counted by the throttle)
    assert authentication._accounts  # the prefix -> account memo is filled
    assert _get(client, key).status_code == 200  # counted during authentication
    wrong = key[:-4] + ("aaaa" if not key.endswith("aaaa") else "bbbb")
    assert _get(client, wrong).status_code == 401
    metering.flush_usage()
    assert UsageRecord.objects.get(metric="requests").quantity == 2
    # Over the minute limit (2 of the tiny plan): the third is a 429 and not counted either.
    assert _get(client, key).status_code == 429
    ApiKey.objects.update(revoked_at=timezone.now())  # (a bulk update: no signal, so the cache is told here)
    authentication.forget([row.prefix for row in ApiKey.objects.all()])
    assert _get(client, key).status_code == 401
    metering.flush_usage()
    assert UsageRecord.objects.get(metric="requests").quantity == 2
