"""The backtest report against hand-computed figures, through the command and the API."""

import csv
import io
import random
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command

from apps.signals import backtest
from apps.signals.models import Signal, SignalOutcome
from tests import factories

pytestmark = pytest.mark.django_db
ENTRY = datetime(2026, 11, 2, 21, 0, tzinfo=UTC)


def test_wilson_interval_and_spearman_against_references():
    low, high = backtest.wilson(8, 10)
    assert (round(low, 4), round(high, 4)) == (0.4902, 0.9433)  # the textbook example
    assert backtest.ranks([10, 20, 20, 30]) == [1, 2.5, 2.5, 4]
    rnd = random.Random(3)
    x = [rnd.random() for _ in range(200)]
    y = [value + rnd.gauss(0, 0.3) for value in x]
    # without ties, the textbook formula 1 - 6 sum(d^2) / (n (n^2 - 1))
    rx, ry = sorted(x), sorted(y)
    d2 = sum((rx.index(a) - ry.index(b)) ** 2 for a, b in zip(x, y, strict=True))
    assert backtest.spearman(x, y) == pytest.approx(1 - 6 * d2 / (200 * (200 ** 2 - 1)))
    assert backtest.spearman([1, 2, 3], [5, 5, 5]) is None


def make(n=40):
    """n bullish signals scoring 1..n; excess return = score/1000 - 0.02, so scores 21..n were right."""
    for score in range(1, n + 1):
        signal = Signal.objects.create(symbol=f"S{score}", t=ENTRY - timedelta(hours=1), score=score, stance="BULLISH",
                                       label="High-Conviction" if score > 30 else "Watch")
        excess = score / 1000 - 0.02
        SignalOutcome.objects.create(signal=signal, horizon=5, entry_t=ENTRY, exit_t=ENTRY + timedelta(days=7),
                                     ret=excess + 0.01, benchmark_ret=0.01, excess_ret=excess,
                                     direction_right=excess > 0, entry_price=10, exit_price=10)
    SignalOutcome.objects.create(signal=signal, horizon=1, entry_t=ENTRY, exit_t=ENTRY, status="missing", note="halt")


def test_the_report_matches_hand_computed_figures():
    make()
    report = backtest.backtest(horizon=5)
    overall = report.overall
    assert (overall.count, overall.directional, overall.hits, overall.hit_rate) == (40, 40, 20, 0.5)
    assert (overall.hit_rate_low, overall.hit_rate_high) == pytest.approx(backtest.wilson(20, 40))
    assert overall.mean_excess == pytest.approx(0.0005) and overall.median_excess == pytest.approx(0.0005)
    assert overall.ic == pytest.approx(1.0)  # score and excess rank alike
    labels = {group.key: group for group in report.breakdowns["label"]}
    assert labels["Watch"].count == 30 and labels["Watch"].hit_rate == pytest.approx(10 / 30)
    assert labels["High-Conviction"].count == 10 and labels["High-Conviction"].hit_rate is None
    assert "sample too small: 10 signal(s)" in labels["High-Conviction"].note
    deciles = report.breakdowns["score_decile"]
    assert [group.key for group in deciles] == [f"D{n}" for n in range(1, 11)] and {g.count for g in deciles} == {4}
    assert backtest.backtest(horizon=1).missing == 1
    assert backtest.backtest(horizon=5, since=ENTRY + timedelta(days=1)).overall.count == 0


def test_the_command_prints_the_table_and_csv():
    make()
    out = io.StringIO()
    call_command("backtest", "--horizon", "5d", stdout=out)
    text = out.getvalue()
    assert "40 outcome(s)" in text and "50.0% (35.2%-64.8%)" in text and "sample too small" in text
    out = io.StringIO()
    call_command("backtest", "--csv", stdout=out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["breakdown"] == "overall" and rows[0]["count"] == "40" and float(rows[0]["ic"]) == pytest.approx(1)


def test_the_api_answers_analysts_and_names_a_bad_parameter(client, django_user_model):
    from apps.billing import services
    from apps.billing.models import Account, Plan
    from apps.billing.roles import ensure_roles

    make()
    user = django_user_model.objects.create_user("analyst", password="x")
    user.groups.add(ensure_roles()["analyst"])
    key = services.api_key_create(account=Account.objects.create(owner=user, name="a", plan=Plan.objects.get(
        name="enterprise")), name="k")[1]
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    body = client.get("/api/v1/signals/performance/?horizon=5d&since=2026-11-01", **headers).json()
    assert body["overall"]["count"] == 40 and body["overall"]["hit_rate"] == 0.5 and body["min_sample"] == 30
    assert body["since"].startswith("2026-11-01") and {"label", "score_decile"} <= set(body["breakdowns"])
    bad = client.get("/api/v1/signals/performance/?horizon=7d", **headers)
    assert bad.status_code == 400 and "horizon" in bad.json()["errors"]
    backwards = client.get("/api/v1/signals/performance/?since=2026-11-05&until=2026-11-01", **headers)
    assert backwards.status_code == 400 and "until" in backwards.json()["errors"]


# --- the admin's performance page ---------------------------------------------------------------

def test_the_report_carries_each_labels_cumulative_excess_by_day():
    make()
    cumulative = backtest.backtest(horizon=5).cumulative
    assert list(cumulative) == ["High-Conviction", "Watch"]
    (point,) = cumulative["High-Conviction"]  # every outcome entered on the same day
    assert point["day"] == "2026-11-02" and point["count"] == 10
    assert point["cumulative_excess"] == pytest.approx(sum(s / 1000 - 0.02 for s in range(31, 41)) / 10)


def test_the_admin_performance_page_draws_both_charts_and_the_tables(admin_client):
    factories.scored_outcomes()
    page = admin_client.get("/admin/signals/signaloutcome/performance/?horizon=5")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 2
    assert 'data-label="High-Conviction"' in html and 'data-label="Watch"' in html  # a line per label
    assert html.count('class="bar"') == 10  # a bar per decile: 40 signals each
    assert "n=40" in html and "400</strong> outcome(s)" in html
    assert "By score decile" in html and "By label" in html
    # the change list links to it
    assert "/admin/signals/signaloutcome/performance/" in admin_client.get("/admin/signals/signaloutcome/").content.decode()


def test_a_small_sample_says_so_instead_of_a_bar(admin_client):
    make(40)  # 4 signals per decile
    html = admin_client.get("/admin/signals/signaloutcome/performance/").content.decode()
    assert 'class="bar"' not in html and html.count('class="too-small"') == 10
    assert "sample too small: 4 signal(s), at least 30 needed" in html


def test_bad_dates_are_shown_as_errors_and_staff_without_the_permission_are_refused(admin_client, client,
                                                                                    django_user_model):
    html = admin_client.get("/admin/signals/signaloutcome/performance/?since=2026-12-01&until=2026-11-01").content.decode()
    assert "&#x27;until&#x27; must be after &#x27;since&#x27;." in html and 'role="img"' not in html
    assert "Enter a valid date" in admin_client.get("/admin/signals/signaloutcome/performance/?since=yesterday").content.decode()
    dated = admin_client.get("/admin/signals/signaloutcome/performance/?since=2026-10-01").content.decode()
    assert "+5 sessions:" in dated and "This field is required" not in dated
    staff = django_user_model.objects.create_user("staffer", password="x", is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/signals/signaloutcome/performance/").status_code == 403
    client.logout()
    assert client.get("/admin/signals/signaloutcome/performance/").status_code == 302  # to the login page
