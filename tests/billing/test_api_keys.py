"""API keys: created once, stored hashed, working until revoked or expired."""

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from apps.billing import services
from apps.billing.models import Account, ApiKey, Plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(viewer):
    return Account.objects.create(owner=viewer, name="Acme Capital", plan=Plan.objects.get(name="pro"))


def _get(client, key, url="/api/v1/articles/"):
    return client.get(url, headers={"Authorization": f"Api-Key {key}"})


def test_seeded_plans():
    assert list(Plan.objects.values_list("name", flat=True)) == ["free", "pro", "enterprise"]


def test_a_key_authenticates_as_its_account_owner_and_is_stored_hashed(client, account):
    row, key = services.api_key_create(account=account, name="bot")
    assert key.startswith(f"nt_{row.prefix}_") and key not in row.key_hash
    assert _get(client, key).status_code == 200
    row.refresh_from_db()
    assert row.last_used_at is not None


@pytest.mark.parametrize("mangle", [lambda k: k[:-1] + ("A" if k[-1] != "A" else "B"), lambda k: "nt_zz_short", lambda k: "garbage"])
def test_wrong_keys_are_401(client, account, mangle):
    _, key = services.api_key_create(account=account, name="bot")
    response = _get(client, mangle(key))
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Api-Key"
    assert response.json()["detail"] in ("Invalid API key.", "Malformed API key.")


def test_revoked_keys_fail_at_once(client, account):
    row, key = services.api_key_create(account=account, name="bot")
    assert _get(client, key).status_code == 200
    services.api_key_revoke(key=row)
    response = _get(client, key)
    assert response.status_code == 401 and response.json()["detail"] == "This API key has been revoked."


def test_expired_keys_and_inactive_accounts_fail(client, account):
    _, old = services.api_key_create(account=account, name="old", expires_at=timezone.now() - timedelta(seconds=1))
    assert _get(client, old).json()["detail"] == "This API key has expired."
    _, key = services.api_key_create(account=account, name="bot")
    Account.objects.filter(pk=account.pk).update(active=False)
    assert _get(client, key).json()["detail"] == "This account is inactive."


def test_create_api_key_command_prints_the_key_once(client, account):
    out = io.StringIO()
    call_command("create_api_key", "--account", "Acme Capital", "--name", "research", stdout=out)
    key = out.getvalue().split("key: ")[1].split()[0]
    assert _get(client, key).status_code == 200
    assert ApiKey.objects.get(name="research").account == account
    with pytest.raises(CommandError, match=r'no account "Nope" \(accounts: "Acme Capital"\)\. .*--owner USERNAME'):
        call_command("create_api_key", "--account", "Nope", "--name", "x")


def test_create_api_key_creates_a_missing_account_for_its_owner(client, account):
    out = io.StringIO()
    call_command("create_api_key", "--account", "New Desk", "--owner", account.owner.username, "--plan", "pro",
                 "--name", "desk bot", stdout=out)
    created = Account.objects.get(name="New Desk")
    assert (created.owner, created.plan.name) == (account.owner, "pro")
    assert f'Created account "New Desk" for {account.owner.username} on plan pro.' in out.getvalue()
    assert _get(client, out.getvalue().split("key: ")[1].split()[0]).status_code == 200
    with pytest.raises(CommandError, match='no user "ghost"'):
        call_command("create_api_key", "--account", "Other", "--owner", "ghost", "--name", "x")
    with pytest.raises(CommandError, match='no plan "gold"'):
        call_command("create_api_key", "--account", "Other", "--owner", account.owner.username, "--plan", "gold",
                     "--name", "x")


def test_admin_creates_a_key_shows_it_once_and_revokes(admin_client, client, account):
    response = admin_client.post("/admin/billing/apikey/add/", {"account": account.pk, "name": "from admin"}, follow=True)
    page = response.content.decode()
    key = page.split("will not be shown again: ")[1].split("<")[0].strip()
    assert _get(client, key).status_code == 200
    row = ApiKey.objects.get(name="from admin")
    assert key not in admin_client.get(f"/admin/billing/apikey/{row.pk}/change/").content.decode()
    admin_client.post("/admin/billing/apikey/", {"action": "revoke", "_selected_action": [row.pk]})
    assert _get(client, key).status_code == 401


def test_changes_apply_to_the_next_request_although_key_rows_are_cached(client, account, viewer):
    row, key = services.api_key_create(account=account, name="bot")
    assert _get(client, key, "/api/v1/billing/limits").json()["plan"] == "pro"  # the row is now cached
    account.plan = Plan.objects.get(name="free")
    account.save()
    assert _get(client, key, "/api/v1/billing/limits").json()["plan"] == "free"
    free = account.plan
    free.requests_per_minute = 7
    free.save()
    assert _get(client, key, "/api/v1/billing/limits").json()["requests_per_minute"]["limit"] == 7
    viewer.is_active = False
    viewer.save()
    assert _get(client, key).json()["detail"] == "The account's owner is inactive."
    viewer.is_active = True
    viewer.save()
    account.active = False
    account.save()
    assert _get(client, key).json()["detail"] == "This account is inactive."
    account.active = True
    account.save()
    assert _get(client, key).status_code == 200
    row.delete()
    assert _get(client, key).json()["detail"] == "Invalid API key."


def test_a_row_read_before_a_revoke_committed_is_not_served_after_it(client, account):
    # The race the generation token closes: a request loads the key row, the revoke commits, and the
    # request then caches the row it read. The commit's invalidation wins.
    from apps.billing import authentication

    row, key = services.api_key_create(account=account, name="bot")
    generation, before = authentication._load(row.prefix)  # a request reads the row (not revoked)
    services.api_key_revoke(key=row)
    authentication.forget([row.prefix])  # what the revoke's on_commit does
    from django.core.cache import cache
    cache.set(f"apikey:{row.prefix}", (generation, before), 300)  # the slow request caches what it read
    assert _get(client, key).json()["detail"] == "This API key has been revoked."
