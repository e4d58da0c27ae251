"""The LLM analyser: any OpenAI-compatible endpoint through the official SDK, JSON output validated
against the plan schema. Invalid output gets one repair attempt, then AnalysisRejected (not retried);
timeouts, connection errors, 429 and 5xx propagate as LLMUnavailable (retried by the job)."""

import json
from decimal import Decimal

import openai
import structlog
from django.conf import settings

from apps.articles.analysis.schema import (
    CATALYST_TYPES,
    STANCES,
    AnalysisResult,
    PlanInvalid,
    validate_plan,
)

logger = structlog.get_logger(__name__)

SYSTEM_PROMPT = f"""You are an equity news analyst. Read the article and answer with one JSON object:
{{"stance": one of {STANCES}, "confidence": number 0-1, "catalyst_type": one of {CATALYST_TYPES},
"tickers": [US ticker symbols], "thesis": string, "key_facts": [strings], "risks": [strings],
"suggested_setups": [strings], "summary": string, "strategy_bucket": short string}}.
Only facts from the article. No text outside the JSON object."""


class AnalysisRejected(Exception):
    """The model's output was invalid twice; retrying the same prompt will not help."""


class LLMUnavailable(Exception):
    """The endpoint timed out, refused, rate-limited or failed (5xx): worth a retry later."""


def is_configured() -> bool:
    return bool(settings.LLM_BASE_URL and settings.LLM_API_KEY)


def client() -> openai.OpenAI:
    # Retries belong to the job (backoff, dead letters), not to the SDK.
    return openai.OpenAI(
        base_url=settings.LLM_BASE_URL, api_key=settings.LLM_API_KEY, timeout=settings.LLM_TIMEOUT, max_retries=0
    )


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
    prices = settings.LLM_PRICES.get(model)
    if prices is None:
        logger.warning("llm_price_unknown", model=model)
        return Decimal(0)
    prompt_price, completion_price = prices
    return (Decimal(prompt_tokens) * Decimal(str(prompt_price)) + Decimal(completion_tokens) * Decimal(str(completion_price))) / Decimal(1_000_000)


def _complete(llm: openai.OpenAI, messages: list[dict]):
    try:
        return llm.chat.completions.create(
            model=settings.LLM_MODEL, messages=messages, response_format={"type": "json_object"}, temperature=0
        )
    except (openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError) as exc:
        raise LLMUnavailable(f"{type(exc).__name__}: {exc}") from exc
    except openai.APIStatusError as exc:  # 400/401/403/404/422: the request or the key is wrong
        raise AnalysisRejected(f"LLM endpoint refused the request: HTTP {exc.status_code}: {exc.message}") from exc


def _plan_from(content: str | None) -> dict:
    try:
        plan = json.loads(content or "")
    except json.JSONDecodeError as exc:
        raise PlanInvalid(f"not JSON: {exc.msg} at position {exc.pos}") from None
    return validate_plan(plan)


def analyze(title: str, summary: str = "") -> AnalysisResult:
    llm = client()
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Title: {title}\n\nText: {summary[:8000]}"},
    ]
    prompt_tokens = completion_tokens = 0
    for attempt in (1, 2):
        response = _complete(llm, messages)
        if response.usage:
            prompt_tokens += response.usage.prompt_tokens
            completion_tokens += response.usage.completion_tokens
        content = response.choices[0].message.content if response.choices else None
        try:
            plan = _plan_from(content)
            break
        except PlanInvalid as exc:
            if attempt == 2:
                raise AnalysisRejected(f"LLM output invalid after one repair attempt: {exc}") from None
            logger.info("llm_output_invalid_repairing", error=str(exc))
            messages += [
                {"role": "assistant", "content": content or ""},
                {"role": "user", "content": f"That answer is invalid ({exc}). Reply with the corrected JSON object only."},
            ]
    plan["tickers"] = sorted(set(plan["tickers"]))
    return AnalysisResult(
        provider="llm",
        model=settings.LLM_MODEL,
        plan=plan,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_usd=cost_usd(settings.LLM_MODEL, prompt_tokens, completion_tokens),
    )
