"""Analysis of an article's text: the LLM when configured and allowed, else the offline analyser."""

from apps import flags
from apps.articles.analysis import llm, offline
from apps.articles.analysis.schema import AnalysisResult, PlanInvalid


def analyze(title: str, summary: str = "", provider: str | None = None) -> AnalysisResult:
    """provider: "llm", "offline", or None for the LLM when one is configured. With the llm_analysis
    flag off every analysis is offline."""
    if not flags.is_enabled("llm_analysis"):
        provider = "offline"
    if provider is None:
        provider = "llm" if llm.is_configured() else "offline"
    if provider == "llm":
        if not llm.is_configured():
            raise llm.AnalysisRejected("no LLM configured: set NT_LLM_BASE_URL and NT_LLM_API_KEY")
        return llm.analyze(title, summary)
    return offline.analyze(title, summary)


__all__ = ["AnalysisResult", "PlanInvalid", "analyze"]
