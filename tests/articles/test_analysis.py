"""Both analysers: the offline one from text, the LLM one through the real openai SDK and a local server."""

import json
from decimal import Decimal

import pytest

from apps.articles import analysis
from apps.articles.analysis import llm
from tests.articles.fake_openai import VALID_PLAN, configure, respond

pytestmark = pytest.mark.django_db  # the llm_analysis flag is read from the database


def test_offline_analysis_is_deterministic_and_valid():
    first = analysis.analyze("Apple (NASDAQ: AAPL) beats estimates and raises guidance", "EPS rose 20% to $1.40.")
    again = analysis.analyze("Apple (NASDAQ: AAPL) beats estimates and raises guidance", "EPS rose 20% to $1.40.")
    assert first.plan == again.plan
    assert first.provider == "offline"
    assert first.plan["stance"] == "BULLISH" and first.plan["tickers"] == ["AAPL"]
    assert first.plan["catalyst_type"] in ("EARNINGS", "GUIDANCE")
    assert "EPS rose 20% to $1.40." in first.plan["key_facts"]


def test_offline_bearish_and_neutral():
    assert analysis.analyze("Tesla shares plunge after recall and lawsuit").plan["stance"] == "BEARISH"
    assert analysis.analyze("Company schedules annual meeting").plan["stance"] == "NEUTRAL"


def test_no_llm_configured_means_offline_never_an_error(settings):
    settings.LLM_BASE_URL = settings.LLM_API_KEY = ""
    assert analysis.analyze("Headline").provider == "offline"


def test_llm_plan_tokens_and_cost(httpserver, settings):
    configure(settings, httpserver)
    respond(httpserver, json.dumps(VALID_PLAN))
    result = analysis.analyze("Apple beats", "text")
    assert result.provider == "llm" and result.plan["stance"] == "BULLISH"
    assert (result.prompt_tokens, result.completion_tokens) == (120, 80)
    assert result.cost_usd == Decimal("0.000066")  # 120 x 0.15 + 80 x 0.60 per million
    sent = httpserver.log[0][0]
    assert sent.headers["Authorization"] == "Bearer test-key"
    body = sent.get_json()
    assert body["model"] == "gpt-4o-mini" and body["response_format"] == {"type": "json_object"}


def test_invalid_json_gets_one_repair_attempt(httpserver, settings):
    configure(settings, httpserver)
    respond(httpserver, "Sure! Here is the analysis: {stance: bullish", json.dumps(VALID_PLAN))
    result = analysis.analyze("Apple beats")
    assert result.plan["confidence"] == 0.82
    assert (result.prompt_tokens, result.completion_tokens) == (240, 160)
    repair = httpserver.log[1][0].get_json()["messages"][-1]["content"]
    assert "invalid (not JSON" in repair


def test_schema_violations_twice_reject_the_analysis(httpserver, settings):
    configure(settings, httpserver)
    bad = json.dumps({**VALID_PLAN, "stance": "VERY BULLISH", "confidence": 3})
    respond(httpserver, bad, bad)
    with pytest.raises(llm.AnalysisRejected, match="invalid after one repair attempt: confidence: 3 is greater"):
        analysis.analyze("Apple beats")


@pytest.mark.parametrize("status", [429, 500, 503])
def test_rate_limits_and_server_errors_are_retryable(httpserver, settings, status):
    configure(settings, httpserver)
    respond(httpserver, status)
    with pytest.raises(llm.LLMUnavailable):
        analysis.analyze("Apple beats")


def test_bad_key_is_not_retryable(httpserver, settings):
    configure(settings, httpserver)
    respond(httpserver, 401)
    with pytest.raises(llm.AnalysisRejected, match="HTTP 401"):
        analysis.analyze("Apple beats")


def test_timeout_is_retryable(httpserver, settings):
    import time

    configure(settings, httpserver)
    settings.LLM_TIMEOUT = 0.3
    httpserver.expect_request("/v1/chat/completions").respond_with_handler(lambda r: time.sleep(1))
    with pytest.raises(llm.LLMUnavailable, match="APITimeoutError"):
        analysis.analyze("Apple beats")


def test_a_model_without_a_price_refuses_to_start_unless_priced(tmp_path):
    from tests.processes import embedded_env, embedded_redis_cleanup, manage

    show = "from django.conf import settings; print(settings.LLM_PRICES['llama-9-local'])"
    env = embedded_env(tmp_path, NT_LLM_BASE_URL="http://127.0.0.1:9/v1", NT_LLM_API_KEY="k", NT_LLM_MODEL="llama-9-local")
    with embedded_redis_cleanup(tmp_path):
        refused = manage("check", env=env, check=False)
        assert refused.returncode != 0
        assert "NT_LLM_MODEL='llama-9-local' has no known price: set NT_LLM_PRICE_IN and NT_LLM_PRICE_OUT" in refused.stderr
        half = manage("check", env={**env, "NT_LLM_PRICE_IN": "1.5"}, check=False)
        assert half.returncode != 0 and "NT_LLM_PRICE_IN and NT_LLM_PRICE_OUT go together" in half.stderr
        priced = manage("shell", "-v", "0", "-c", show, env={**env, "NT_LLM_PRICE_IN": "1.5", "NT_LLM_PRICE_OUT": "4"})
    assert priced.stdout.strip() == "(1.5, 4.0)"


def test_once_the_daily_budget_is_spent_the_llm_is_used_no_more(httpserver, settings):
    from apps.articles.analysis import budget
    from apps.articles.models import LlmSpend

    configure(settings, httpserver)
    settings.LLM_DAILY_BUDGET_USD = 0.0001
    respond(httpserver, json.dumps(VALID_PLAN), json.dumps(VALID_PLAN))
    assert analysis.analyze("Apple beats").provider == "llm"  # $0.000066 of $0.0001
    assert analysis.analyze("Apple beats again").provider == "llm"  # $0.000132: now over
    assert budget.spent_today() == Decimal("0.000132") and LlmSpend.objects.get().analyses == 2
    assert analysis.analyze("Apple beats a third time").provider == "offline"  # no provider named: offline
    with pytest.raises(llm.AnalysisRejected, match="today's LLM budget .* is spent"):
        analysis.analyze("Apple beats", provider="llm")
    assert len(httpserver.log) == 2
