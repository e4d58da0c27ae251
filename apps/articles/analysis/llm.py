"""The LLM analyser: any OpenAI-compatible endpoint through the official SDK, JSON output validated
against the plan schema. Invalid output gets one repair attempt, then AnalysisRejected (not retried);
timeouts, connection errors, 429 and 5xx propagate as LLMUnavailable (retried by the job). Either
carries `usage`: the tokens (and their cost) already spent on the analysis, which are spent all the same."""

import json
from decimal import Decimal

import openai
import structlog
from django.conf import settings

from apps.articles.analysis.budget import Usage
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


class LLMFailure(Exception):
    """An LLM analysis that did not produce a plan; `usage` is what its calls cost so far."""

    usage: Usage | None = None


class AnalysisRejected(LLMFailure):
    """The model's output was invalid twice, or the request was refused: retrying will not help."""


class LLMUnavailable(LLMFailure):
    """The endpoint timed out, refused, rate-limited or failed (5xx): worth a retry later."""


def is_configured() -> bool:
    return bool(settings.LLM_BASE_URL and settings.LLM_API_KEY)


def client() -> openai.OpenAI:
    # Retries belong to the job (backoff, dead letters), not to the SDK.
    return openai.OpenAI(
        base_url=settings.LLM_BASE_URL, api_key=settings.LLM_API_KEY, timeout=settings.LLM_TIMEOUT, max_retries=0
    )


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> Decimal:
    """USD at settings.LLM_PRICES (a configured model always has a price: settings refuse to start otherwise)."""
    prompt_price, completion_price = settings.LLM_PRICES[model]
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


def analyze(title: str, summary: str = "", candidates=()) -> AnalysisResult:
    """candidates: the resolver's matches ({symbol, how, text, confidence}); the model confirms or rejects them."""
    llm, model = client(), settings.LLM_MODEL
    found = "; ".join(f"{c['symbol']} ({c.get('how', '?')}: {c.get('text', '')!r})" for c in candidates) or "none"
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Title: {title}\n\nText: {summary[:8000]}\n\nCandidate tickers found by our "
                                    f"resolver (keep only those the article is about; add a US ticker only if the "
                                    f"article names its listing): {found}"},
    ]
    tokens = [0, 0]  # prompt, completion: every call's, the failed ones' too
    try:
        plan = _ask(llm, messages, tokens)
    except LLMFailure as exc:
        exc.usage = Usage(model, tokens[0], tokens[1], cost_usd(model, *tokens))
        raise
    plan["tickers"] = sorted(set(plan["tickers"]))
    return AnalysisResult(provider="llm", model=model, plan=plan, prompt_tokens=tokens[0], completion_tokens=tokens[1],
                          cost_usd=cost_usd(model, *tokens))


def _ask(llm: openai.OpenAI, messages: list[dict], tokens: list[int]) -> dict:
    """The plan, after at most one repair attempt; adds each call's tokens to `tokens`."""
    for attempt in (1, 2):
        response = _complete(llm, messages)
        if response.usage:
            tokens[0] += response.usage.prompt_tokens
            tokens[1] += response.usage.completion_tokens
        content = response.choices[0].message.content if response.choices else None
        try:
            return _plan_from(content)
        except PlanInvalid as exc:
            if attempt == 2:
                raise AnalysisRejected(f"LLM output invalid after one repair attempt: {exc}") from None
            logger.info("llm_output_invalid_repairing", error=str(exc))
            messages += [
                {"role": "assistant", "content": content or ""},
                {"role": "user", "content": f"That answer is invalid ({exc}). Reply with the corrected JSON object only."},
            ]
    raise AssertionError("unreachable")
