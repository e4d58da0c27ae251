"""Analysis of an article's text: the LLM when configured, allowed and within today's budget, else the
local analyser: the FinBERT model when the finbert_sentiment switch is on and NT_FINBERT_PATH is set, the
offline rules otherwise. Every LLM analysis, failed ones included, is added to the day's spend."""

import structlog

from apps import flags
from apps.articles.analysis import budget, finbert, llm, offline
from apps.articles.analysis.schema import AnalysisResult, PlanInvalid

logger = structlog.get_logger(__name__)


def llm_usable() -> bool:
    """Would an analysis that does not name a provider use the LLM now?"""
    return flags.is_enabled("llm_analysis") and llm.is_configured() and budget.left_today() > 0


def analyze(title: str, summary: str = "", provider: str | None = None, *, candidates: list[dict] = (),
            ticker_min_confidence: float = offline.DEFAULT_TICKER_MIN_CONFIDENCE) -> AnalysisResult:
    """provider: "llm"; "offline" (no LLM: FinBERT when enabled, else the rules); "finbert" by name; or
    None for the LLM when one is configured and today's budget is not spent. With the llm_analysis flag
    off no analysis uses the LLM. Asking for "llm" by name when none is configured, or when today's budget
    is spent, raises AnalysisRejected, as does "finbert" when it is not enabled or its model is unusable.
    Without a name, an unusable model falls back to the rules (logged; `manage.py check` names the
    problem). Tickers resolved with at least `ticker_min_confidence` are kept; the LLM is shown the
    resolver's `candidates` (article.tickers) and may reject them."""
    if not flags.is_enabled("llm_analysis") and provider in (None, "llm"):
        provider = "offline"
    if provider is None:
        provider = "llm" if llm_usable() else "offline"
    elif provider == "llm":
        _require_llm()
    if provider == "llm":
        return _llm(title, summary, candidates)
    if provider == "finbert":
        if not finbert.is_enabled():
            raise llm.AnalysisRejected("FinBERT is not enabled: set NT_FINBERT_PATH and switch finbert_sentiment on")
        try:
            return finbert.analyze(title, summary, ticker_min_confidence)
        except finbert.FinbertUnavailable as exc:
            raise llm.AnalysisRejected(str(exc)) from None
    if finbert.is_enabled():
        try:
            return finbert.analyze(title, summary, ticker_min_confidence)
        except finbert.FinbertUnavailable as exc:
            logger.error("finbert_unavailable", error=str(exc), fallback="offline")
    return offline.analyze(title, summary, ticker_min_confidence=ticker_min_confidence)


def _require_llm() -> None:
    if not llm.is_configured():
        raise llm.AnalysisRejected("no LLM configured: set NT_LLM_BASE_URL and NT_LLM_API_KEY")
    if budget.left_today() <= 0:
        raise llm.AnalysisRejected("today's LLM budget (NT_LLM_DAILY_BUDGET_USD) is spent; it resets at 00:00 UTC")


def _llm(title: str, summary: str, candidates) -> AnalysisResult:
    try:
        result = llm.analyze(title, summary, candidates)
    except llm.LLMFailure as exc:
        if exc.usage:
            budget.record(exc.usage, rejected=True)
            logger.warning("llm_tokens_spent_without_a_plan", model=exc.usage.model, error=str(exc)[:300],
                           prompt_tokens=exc.usage.prompt_tokens, completion_tokens=exc.usage.completion_tokens,
                           cost_usd=str(exc.usage.cost_usd))
        raise
    budget.record(budget.Usage(result.model, result.prompt_tokens, result.completion_tokens, result.cost_usd))
    return result


__all__ = ["AnalysisResult", "PlanInvalid", "analyze", "llm_usable"]
