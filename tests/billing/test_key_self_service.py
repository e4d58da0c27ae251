"""An account owner manages their own API keys through the API: list, create (shown once), rotate, revoke."""

import pytest

from apps.billing.models import Account, ApiKey, Plan
from apps.billing.services import api_key_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(viewer):
    return Account.objects.create(owner=viewer, name="Acme Capital", plan=Plan.objects.get(name="pro"))


def _call(client, key, method, url, **kwargs):
    return getattr(client, method)(url, headers={"Authorization": f"Api-Key {key}"}, content_type="application/json",
                                   **kwargs)


def test_an_owner_creates_lists_rotates_and_revokes_their_keys(client, account):
    _, first = api_key_create(account=account, name="bootstrap")
    created = _call(client, first, "post", "/api/v1/keys/", data={"name": "trading bot"})
    assert created.status_code == 201
    body = created.json()
    assert body["name"] == "trading bot" and body["key"].startswith(f"nt_{body['prefix']}_") and body["active"]
    new_key = body["key"]
    assert _call(client, new_key, "get", "/api/v1/articles/").status_code == 200  # it works
    listed = _call(client, new_key, "get", "/api/v1/keys/").json()
    assert [k["name"] for k in listed] == ["trading bot", "bootstrap"] and all("key" not in k for k in listed)
    assert not ApiKey.objects.filter(key_hash=new_key).exists()  # only its hash is kept

    rotated = _call(client, new_key, "post", f"/api/v1/keys/{body['id']}/rotate/")
    assert rotated.status_code == 201 and rotated.json()["name"] == "trading bot"
    assert _call(client, new_key, "get", "/api/v1/articles/").status_code == 401  # the old one stopped at once
    successor = rotated.json()["key"]
    assert _call(client, successor, "get", "/api/v1/articles/").status_code == 200
    again = _call(client, successor, "post", f"/api/v1/keys/{body['id']}/rotate/")
    assert again.status_code == 409 and "revoked" in again.json()["detail"]

    bootstrap = ApiKey.objects.get(name="bootstrap")
    assert _call(client, successor, "delete", f"/api/v1/keys/{bootstrap.pk}/").status_code == 204
    assert _call(client, first, "get", "/api/v1/articles/").status_code == 401
    assert _call(client, successor, "get", f"/api/v1/keys/{bootstrap.pk}/").json()["active"] is False


def test_bad_input_and_other_accounts_keys(client, account, analyst):
    _, key = api_key_create(account=account, name="mine")
    other = Account.objects.create(owner=analyst, name="Other", plan=Plan.objects.get(name="free"))
    theirs, _ = api_key_create(account=other, name="theirs")
    missing_name = _call(client, key, "post", "/api/v1/keys/", data={})
    assert missing_name.status_code == 400 and "name" in missing_name.json()["errors"]
    past = _call(client, key, "post", "/api/v1/keys/", data={"name": "x", "expires_at": "2020-01-01T00:00:00Z"})
    assert past.status_code == 400 and past.json()["errors"]["expires_at"] == ["Must be in the future."]
    for method, url in [("get", f"/api/v1/keys/{theirs.pk}/"), ("delete", f"/api/v1/keys/{theirs.pk}/"),
                        ("post", f"/api/v1/keys/{theirs.pk}/rotate/")]:
        assert _call(client, key, method, url).status_code == 404, url  # not even its existence
    assert ApiKey.objects.get(pk=theirs.pk).revoked_at is None


def test_a_signed_in_user_without_an_account_is_told_what_to_do(client, analyst):
    client.force_login(analyst)
    answer = client.get("/api/v1/keys/")
    assert answer.status_code == 404 and "You own no account" in answer.json()["detail"]
    client.logout()
    assert client.get("/api/v1/keys/").status_code == 401
