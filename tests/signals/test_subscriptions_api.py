"""Digest subscriptions through the API: each user manages their own."""

import pytest

from apps.signals.models import DigestSubscription

pytestmark = pytest.mark.django_db

URL = "/api/v1/digests/subscriptions/"


@pytest.fixture
def api(client, viewer):
    client.force_login(viewer)
    return client


def test_create_list_update_delete_own(api, viewer, analyst):
    DigestSubscription.objects.create(user=analyst, frequency="daily")  # someone else's: never shown
    created = api.post(URL, {"frequency": "weekly", "min_score": 70, "symbols": ["aapl", "MSFT"],
                             "labels": ["High-Conviction"]}, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["recipient"] == viewer.email and body["symbols"] == ["AAPL", "MSFT"] and body["active"]
    listed = api.get(URL).json()["results"]
    assert [s["id"] for s in listed] == [body["id"]]
    changed = api.patch(f"{URL}{body['id']}/", {"email": "Desk@Example.com", "active": False},
                        content_type="application/json")
    assert changed.status_code == 200 and changed.json()["recipient"] == "desk@example.com"
    assert not DigestSubscription.objects.get(pk=body["id"]).active
    assert api.delete(f"{URL}{body['id']}/").status_code == 204
    assert DigestSubscription.objects.filter(user=viewer).count() == 0


def test_bad_input_names_each_field(api):
    response = api.post(URL, {"frequency": "hourly", "min_score": 101, "symbols": ["$$$"], "labels": ["Great"],
                              "email": "not-an-address"}, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"frequency", "min_score", "symbols", "labels", "email"}


def test_a_user_without_an_address_must_give_one(client, django_user_model):
    user = django_user_model.objects.create_user(username="no-mail", password="x")
    client.force_login(user)
    response = client.post(URL, {"frequency": "daily"}, content_type="application/json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["email"]
    ok = client.post(URL, {"frequency": "daily", "email": "me@example.com"}, content_type="application/json")
    assert ok.status_code == 201 and ok.json()["recipient"] == "me@example.com"
