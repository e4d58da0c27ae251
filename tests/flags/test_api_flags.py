import pytest
from django.core.cache import cache

from apps.flags import checks
from apps.flags.models import FlagChange

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh():
    checks.clear_local_cache()
    cache.delete_pattern("*throttle*")
    yield
    checks.clear_local_cache()


def test_list_shows_effective_state_override_and_last_change(admin_client, settings):
    settings.FLAG_OVERRIDES = {"llm_analysis": False}
    body = {f["name"]: f for f in admin_client.get("/api/v1/flags/").json()}
    assert set(body) == {"rss_polling", "llm_analysis", "async_jobs", "redis_caching", "rate_limiting",
                         "signal_explanations", "email_digests", "slack_alerts", "webhook_notifications",
                         "alert_stream", "finbert_sentiment", "ml_predictions", "advanced_ml", "time_series_forecasting",
                         "reddit_integration", "twitter_integration", "insider_trading", "social_sentiment",
                         "graphql_api", "websocket_v2"}
    assert body["llm_analysis"]["enabled"] is False and body["llm_analysis"]["override"] is False
    assert body["rss_polling"]["enabled"] is True and body["rss_polling"]["override"] is None
    assert body["rss_polling"]["last_change"]["source"] == "migration"


@pytest.mark.django_db(transaction=True)  # waffle refreshes its cache when the change commits
def test_patch_and_toggle_are_audited(admin_client, admin_user):
    response = admin_client.patch("/api/v1/flags/redis_caching/", {"enabled": False}, content_type="application/json")
    assert response.status_code == 200 and response.json()["enabled"] is False
    response = admin_client.post("/api/v1/flags/redis_caching/toggle/")
    assert response.json()["enabled"] is True
    # (a flushed database first gets the row re-created: old=None; not part of what is checked here)
    changes = list(FlagChange.objects.filter(name="redis_caching", source="api", old__isnull=False).order_by("at", "id"))
    assert [(c.new, c.user) for c in changes] == [({"active": False}, admin_user), ({"active": True}, admin_user)]
    assert response.json()["last_change"]["user"] == "alice-admin"


@pytest.mark.parametrize(("body", "field"), [({"enabled": "maybe"}, "enabled"), ({}, "enabled")])
def test_bad_body_is_400_naming_the_field(admin_client, body, field):
    response = admin_client.patch("/api/v1/flags/rss_polling/", body, content_type="application/json")
    assert response.status_code == 400 and field in response.json()["errors"]


def test_unknown_flag_is_404(admin_client):
    response = admin_client.patch("/api/v1/flags/nope/", {"enabled": True}, content_type="application/json")
    assert response.status_code == 404 and response.json() == {"detail": "no flag named 'nope'", "code": "not_found"}


def test_anonymous_401_non_staff_403(client, analyst):
    assert client.get("/api/v1/flags/").status_code == 401
    client.force_login(analyst)
    assert client.get("/api/v1/flags/").status_code == 403
    assert client.post("/api/v1/flags/rss_polling/toggle/").status_code == 403


def test_over_the_rate_is_429_with_retry_after(admin_client, settings):
    from rest_framework.throttling import ScopedRateThrottle

    original = dict(ScopedRateThrottle.THROTTLE_RATES)
    ScopedRateThrottle.THROTTLE_RATES["flags"] = "3/min"
    try:
        statuses = [admin_client.get("/api/v1/flags/").status_code for _ in range(4)]
        last = admin_client.get("/api/v1/flags/")
    finally:
        ScopedRateThrottle.THROTTLE_RATES.clear()
        ScopedRateThrottle.THROTTLE_RATES.update(original)
    assert statuses == [200, 200, 200, 429]
    assert last.status_code == 429 and 0 < int(last["Retry-After"]) <= 60
    assert "Request was throttled" in last.json()["detail"]
