"""Staff see usage totals in the admin: per metric over the filtered rows, and per account against its plan."""

import re
from datetime import date
from decimal import Decimal

import pytest

from apps.billing import metering
from apps.billing.models import Account, Plan, UsageRecord

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(viewer, analyst):
    free, pro = Plan.objects.get(name="free"), Plan.objects.get(name="pro")
    acme = Account.objects.create(owner=viewer, name="Acme <b>Corp</b>", plan=free)
    globex = Account.objects.create(owner=analyst, name="Globex", plan=pro)
    for account, day, metric, quantity in [(acme, date(2026, 11, 1), "requests", 10),
                                           (acme, date(2026, 11, 2), "requests", 5),
                                           (globex, date(2026, 11, 2), "requests", 7),
                                           (globex, date(2026, 11, 2), "llm_cost_usd", Decimal("0.000066"))]:
        UsageRecord.objects.create(account=account, day=day, metric=metric, quantity=quantity)
    return acme, globex


def _totals(html):
    table = re.search(r'<table id="usage-totals".*?</table>', html, re.S).group(0)
    return {m: (t, a) for m, t, a in re.findall(r"<tr><td>(\w+)</td><td>([\d.]+)</td><td>(\d+)</td>", table)}


def test_usage_list_shows_totals_of_the_filtered_rows(admin_client, accounts):
    html = admin_client.get("/admin/billing/usagerecord/").content.decode()
    assert _totals(html) == {"llm_cost_usd": ("0.000066", "1"), "requests": ("22", "2")}
    acme, _ = accounts
    html = admin_client.get(f"/admin/billing/usagerecord/?account__id__exact={acme.pk}").content.decode()
    assert _totals(html) == {"requests": ("15", "1")}
    assert "Acme &lt;b&gt;Corp&lt;/b&gt;" in html and "<b>Corp</b>" not in html


def test_account_page_shows_this_month_against_the_plan(admin_client, accounts):
    acme, _ = accounts
    metering.record(acme.pk, "analyses", 2)  # still pending in Redis: shown too
    html = admin_client.get(f"/admin/billing/account/{acme.pk}/change/").content.decode()
    free = Plan.objects.get(name="free")
    assert re.search(rf"<td>analyses per month</td><td>2.0</td><td>{free.analyses_per_month}</td>", html)
