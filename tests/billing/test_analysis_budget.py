"""Analyses asked for through the API are charged to the account and limited by its plan."""

import json
import threading

import httpx

import pytest

from apps.billing import metering, services
from apps.billing.models import Account, Plan, UsageRecord
from apps.billing.roles import ensure_roles
from tests import factories
from tests.articles.fake_openai import VALID_PLAN, configure, respond

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def key(django_user_model):
    user = django_user_model.objects.create_user(username="quant", password="x")
    user.groups.add(ensure_roles()["analyst"])
    plan = Plan.objects.create(name="one-shot", requests_per_minute=100, requests_per_day=100, analyses_per_month=1,
                               llm_budget_usd="0.01")
    account = Account.objects.create(owner=user, name="Quant Co", plan=plan)
    return services.api_key_create(account=account, name="bot")[1]


def _analyze(client, key, article_id):
    return client.post(f"/api/v1/articles/{article_id}/analyze/", data=json.dumps({}), content_type="application/json",
                       headers={"Authorization": f"Api-Key {key}"})


def test_llm_tokens_and_cost_are_charged_then_the_monthly_analyses_run_out(client, key, httpserver, settings, broker, run_jobs):
    configure(settings, httpserver)
    respond(httpserver, json.dumps(VALID_PLAN), json.dumps(VALID_PLAN))  # ingest analyses strong news itself too
    article = factories.article("Apple (NASDAQ: AAPL) beats estimates")
    assert _analyze(client, key, article.pk).status_code == 202
    run_jobs()
    metering.flush_usage()
    usage = dict(UsageRecord.objects.filter(account__name="Quant Co").values_list("metric", "quantity"))
    assert {k: float(v) for k, v in usage.items()} == {
        "requests": 1.0, "analyses": 1.0, "prompt_tokens": 120.0, "completion_tokens": 80.0, "llm_cost_usd": 0.000066}
    refused = _analyze(client, key, article.pk)
    assert refused.status_code == 429
    assert refused.json()["detail"] == "Analyses per month limit of your plan reached." and refused.json()["limit"] == 1
    assert int(refused["Retry-After"]) > 0


def test_llm_budget_spent_is_429(client, key, broker):
    account = Account.objects.get(name="Quant Co")
    account.plan.analyses_per_month = 100
    account.plan.save()
    metering.record(account.pk, "llm_cost_usd", 0.02)
    article = factories.article("Tesla recall widens")
    refused = _analyze(client, key, article.pk)
    assert refused.status_code == 429 and refused.json()["detail"].startswith("LLM budget per month")


def test_staff_sessions_are_not_charged(admin_client, broker):
    article = factories.article("Tesla recall widens")
    assert admin_client.post(f"/api/v1/articles/{article.pk}/analyze/").status_code == 202
    assert metering.flush_usage() == 0


def test_an_analysis_refused_by_the_view_is_not_counted(client, key, broker):
    assert _analyze(client, key, 999_999).status_code == 404
    bad = client.post(f"/api/v1/articles/{factories.article('Tesla recall widens').pk}/analyze/",
                      data=json.dumps({"provider": "psychic"}), content_type="application/json",
                      headers={"Authorization": f"Api-Key {key}"})
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["provider"]
    metering.flush_usage()
    assert not UsageRecord.objects.filter(metric="analyses").exclude(quantity=0).exists()


def test_a_burst_of_analyses_cannot_overshoot_the_month(live_server, key, broker):
    # The plan allows 1 analysis a month; 8 clients ask at once: exactly one is accepted.
    article = factories.article("Apple (NASDAQ: AAPL) beats estimates")
    statuses, lock = [], threading.Lock()

    def ask():
        with httpx.Client(base_url=live_server.url, headers={"Authorization": f"Api-Key {key}"}) as http:
            code = http.post(f"/api/v1/articles/{article.pk}/analyze/", json={}).status_code
        with lock:
            statuses.append(code)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert sorted(statuses) == [202] + [429] * 7
    metering.flush_usage()
    assert UsageRecord.objects.get(account__name="Quant Co", metric="analyses").quantity == 1
