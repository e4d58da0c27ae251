"""A user can subscribe only their own address outright: any other address gets a confirmation email
(real SMTP server on loopback) and receives nothing until its recipient confirms."""

import re
import time

import pytest
from django.core import signing

from apps.signals import subscriptions
from apps.signals.models import DigestRun, DigestSubscription
from tests.signals.notify_data import signal

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/digests/subscriptions/"


@pytest.fixture
def api(client, viewer):
    client.force_login(viewer)
    return client


def _link(smtp, index=-1) -> str:
    recipients, message = smtp.messages[index]
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"https://tunneler\.example\.com(/digests/confirm/\S+/)", text).group(1)


def _daily(broker, run_jobs):
    broker.get_actor("send_daily_digest").send()
    run_jobs()


def test_a_third_partys_address_gets_nothing_until_it_confirms(api, smtp, broker, run_jobs, client):
    signal("Apple (NASDAQ: AAPL) beats estimates and raises guidance", 82, hours_ago=2)
    created = api.post(URL, {"frequency": "daily", "min_score": 0, "email": "Victim@Example.org"},
                       content_type="application/json")
    assert created.status_code == 201 and created.json()["confirmed"] is False
    run_jobs()
    (recipients, message), = smtp.messages
    assert recipients == ["victim@example.org"] and message["Subject"] == "Confirm your News Tunneler digest subscription"
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "Someone (victor-viewer) asked" in text and "Nothing will be sent unless you confirm" in text
    _daily(broker, run_jobs)
    assert len(smtp.messages) == 1 and not DigestRun.objects.exists()  # no digest to an unconfirmed address

    link = _link(smtp)
    page = client.get(link)  # a mail scanner opening the link confirms nothing
    assert page.status_code == 200 and "Send me the daily digest" in page.content.decode()
    assert not DigestSubscription.objects.get().is_confirmed
    done = client.post(link)
    assert done.status_code == 200 and "Subscription confirmed" in done.content.decode()
    assert api.get(URL).json()["results"][0]["confirmed"] is True
    _daily(broker, run_jobs)
    assert [r for r, m in smtp.messages][-1] == ["victim@example.org"]
    assert smtp.messages[-1][1]["Subject"].startswith("News Tunneler daily digest")


def test_the_users_own_address_is_confirmed_at_once(api, viewer, smtp, run_jobs):
    own = api.post(URL, {"frequency": "daily"}, content_type="application/json")
    spelled_out = api.post(URL, {"frequency": "weekly", "email": viewer.email.upper()}, content_type="application/json")
    assert own.json()["confirmed"] is True and spelled_out.json()["confirmed"] is True
    run_jobs()
    assert smtp.messages == []


def test_changing_the_address_needs_a_new_confirmation_and_voids_the_old_link(api, viewer, smtp, run_jobs, client):
    body = api.post(URL, {"frequency": "daily", "email": "first@example.org"}, content_type="application/json").json()
    run_jobs()
    old_link = _link(smtp)
    client.post(old_link)
    assert DigestSubscription.objects.get().is_confirmed
    changed = api.patch(f"{URL}{body['id']}/", {"email": "second@example.org"}, content_type="application/json")
    assert changed.json()["confirmed"] is False
    run_jobs()
    assert smtp.messages[-1][0] == ["second@example.org"]
    assert client.post(old_link).status_code == 400  # for the first address: void
    assert client.post(_link(smtp)).status_code == 200
    assert DigestSubscription.objects.get().is_confirmed
    api.patch(f"{URL}{body['id']}/", {"min_score": 80}, content_type="application/json")
    assert DigestSubscription.objects.get().is_confirmed  # other edits keep it


def test_forged_and_expired_links_are_refused(api, smtp, run_jobs, client, monkeypatch):
    api.post(URL, {"frequency": "daily", "email": "someone@example.org"}, content_type="application/json")
    subscription = DigestSubscription.objects.get()
    forged = client.get(f"/digests/confirm/{subscription.pk}:someone@example.org:AAAAAA:forged/")
    assert forged.status_code == 400 and "This link is not valid" in forged.content.decode()
    eight_days_ago = time.time() - 8 * 86400
    with monkeypatch.context() as patched:
        patched.setattr(signing.time, "time", lambda: eight_days_ago)
        stale = subscriptions.confirm_token(subscription)
    assert client.post(f"/digests/confirm/{stale}/").status_code == 400
    assert not DigestSubscription.objects.get().is_confirmed


def test_a_user_may_have_only_a_few_addresses_waiting(api):
    for n in range(subscriptions.MAX_UNCONFIRMED_PER_USER):
        assert api.post(URL, {"frequency": "daily", "email": f"x{n}@example.org"},
                        content_type="application/json").status_code == 201
    refused = api.post(URL, {"frequency": "daily", "email": "one-more@example.org"}, content_type="application/json")
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["email"]
    assert "waiting for their recipients to confirm" in refused.json()["errors"]["email"][0]


def test_staff_made_subscriptions_are_confirmed_and_staff_can_confirm(admin_client, viewer, smtp, run_jobs):
    added = admin_client.post("/admin/signals/digestsubscription/add/", {
        "email": "desk@example.org", "frequency": "daily", "min_score": 60, "symbols": "[]", "labels": "[]",
        "active": "on"}, follow=True)
    assert "was added successfully" in added.content.decode()
    assert DigestSubscription.objects.get(email="desk@example.org").is_confirmed
    pending = DigestSubscription.objects.create(user=viewer, email="friend@example.org", frequency="daily")
    listing = admin_client.get("/admin/signals/digestsubscription/?confirmed=no").content.decode()
    assert "friend@example.org" in listing and "desk@example.org" not in listing
    admin_client.post("/admin/signals/digestsubscription/", {"action": "send_confirmation_again",
                                                               "_selected_action": [pending.pk]})
    run_jobs()
    assert smtp.messages[-1][0] == ["friend@example.org"]
    admin_client.post("/admin/signals/digestsubscription/", {"action": "mark_confirmed", "_selected_action": [pending.pk]})
    assert DigestSubscription.objects.get(pk=pending.pk).is_confirmed


def test_editing_a_waiting_subscription_does_not_mail_its_recipient_again(api, smtp, run_jobs):
    body = api.post(URL, {"frequency": "daily", "email": "pending@example.org"}, content_type="application/json").json()
    run_jobs()
    assert len(smtp.messages) == 1
    for score in (70, 80):
        assert api.patch(f"{URL}{body['id']}/", {"min_score": score}, content_type="application/json").status_code == 200
    run_jobs()
    assert len(smtp.messages) == 1 and not DigestSubscription.objects.get().is_confirmed
