"""Analyses asked for through the API are charged to the account and limited by its plan."""

import json
import threading

import httpx
import pytest

from apps.articles.models import Analysis, LlmSpend, ScoringPolicy
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
                               llm_budget_usd="0.01", features=["llm_analysis"])
    account = Account.objects.create(owner=user, name="Quant Co", plan=plan)
    return services.api_key_create(account=account, name="bot")[1]


def _analyze(client, key, article_id, **body):
    return client.post(f"/api/v1/articles/{article_id}/analyze/", data=json.dumps(body), content_type="application/json",
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


def test_llm_budget_spent_is_429_for_the_llm_by_name_and_offline_otherwise(client, key, httpserver, settings, broker,
                                                                            run_jobs):
    configure(settings, httpserver)
    account = Account.objects.get(name="Quant Co")
    account.plan.analyses_per_month = 100
    account.plan.save()
    metering.record(account.pk, "llm_cost_usd", 0.02)
    ScoringPolicy.objects.update_or_create(pk=1, defaults={"alert_threshold": 1000})  # no analysis at ingest
    article = factories.article("Tesla recall widens")
    refused = _analyze(client, key, article.pk, provider="llm")
    assert refused.status_code == 429 and refused.json()["detail"].startswith("LLM budget per month")
    assert _analyze(client, key, article.pk).status_code == 202  # no provider named: the offline analyser
    run_jobs()
    assert Analysis.objects.get(article=article).provider == "offline" and httpserver.log == []


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


def _key_on(django_user_model, plan_name: str, **plan_fields) -> tuple[str, Account]:
    user = django_user_model.objects.create_user(username=f"user-{plan_name}", password="x")
    user.groups.add(ensure_roles()["analyst"])
    plan, _ = Plan.objects.get_or_create(name=plan_name, defaults={
        "requests_per_minute": 100, "requests_per_day": 100, "analyses_per_month": 100, **plan_fields})
    account = Account.objects.create(owner=user, name=f"Account {plan_name}", plan=plan)
    return services.api_key_create(account=account, name="bot")[1], account


def test_free_plan_gets_no_llm_analysis_whatever_it_spent(client, django_user_model, httpserver, settings, broker):
    # Seen: a free key ($0 budget, which meant "no cap") with $500 spent still got 202 for provider=llm.
    configure(settings, httpserver)
    key, account = _key_on(django_user_model, "free")
    metering.record(account.pk, "llm_cost_usd", 500)
    refused = _analyze(client, key, factories.article("Tesla recall widens").pk, provider="llm")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "Your plan (free) does not include llm_analysis.",
                              "code": "plan_feature_missing", "feature": "llm_analysis"}


def test_a_zero_budget_means_no_llm_and_an_empty_one_no_cap(client, django_user_model, httpserver, settings, broker):
    configure(settings, httpserver)
    zero, _ = _key_on(django_user_model, "zero", llm_budget_usd=0, features=["llm_analysis"])
    uncapped, account = _key_on(django_user_model, "uncapped", llm_budget_usd=None, features=["llm_analysis"])
    article = factories.article("Tesla recall widens")
    refused = _analyze(client, zero, article.pk, provider="llm")
    assert refused.status_code == 403 and refused.json()["detail"] == "Your plan (zero) has no LLM budget."
    metering.record(account.pk, "llm_cost_usd", 500)
    assert _analyze(client, uncapped, article.pk, provider="llm").status_code == 202
    limits = client.get("/api/v1/billing/limits", headers={"Authorization": f"Api-Key {uncapped}"}).json()
    assert limits["llm_budget_usd_per_month"] == {"limit": None, "used": 500.0, "remaining": None}


def test_search_needs_a_plan_with_signal_search(client, django_user_model, broker):
    without, _ = _key_on(django_user_model, "basic")
    with_search, _ = _key_on(django_user_model, "searching", features=["signal_search"])
    refused = client.get("/api/v1/signals/search/?q=apple", headers={"Authorization": f"Api-Key {without}"})
    assert refused.status_code == 403 and refused.json()["feature"] == "signal_search"
    assert refused.json()["detail"] == "Your plan (basic) does not include signal_search."
    assert client.get("/api/v1/signals/search/?q=apple",
                      headers={"Authorization": f"Api-Key {with_search}"}).status_code == 200


def test_tokens_spent_on_an_answer_that_fails_validation_are_charged(client, key, httpserver, settings, broker,
                                                                     run_jobs):
    configure(settings, httpserver)
    respond(httpserver, "not json at all", json.dumps({"stance": "MAYBE"}))  # invalid, then invalid again
    ScoringPolicy.objects.update_or_create(pk=1, defaults={"alert_threshold": 1000})  # no analysis at ingest
    article = factories.article("Tesla recall widens")
    assert _analyze(client, key, article.pk, provider="llm").status_code == 202
    run_jobs()
    assert not Analysis.objects.filter(article=article).exists()
    metering.flush_usage()
    usage = {k: float(v) for k, v in UsageRecord.objects.filter(account__name="Quant Co").values_list("metric", "quantity")}
    assert usage["prompt_tokens"] == 240 and usage["completion_tokens"] == 160  # two calls of 120 + 80
    assert usage["llm_cost_usd"] == 0.000132
    spend = LlmSpend.objects.get()
    assert (spend.analyses, spend.rejected, spend.prompt_tokens, float(spend.cost_usd)) == (1, 1, 240, 0.000132)
