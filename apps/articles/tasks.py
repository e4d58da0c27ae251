"""Actors of the articles app: thin, they take primary keys and call a service."""

import dramatiq
import structlog

from apps.articles import polling, services
from apps.articles.analysis.llm import AnalysisRejected, LLMFailure
from apps.articles.analysis.schema import PlanInvalid
from apps.articles.models import Article, Source
from apps.jobs.enqueue import enqueue

logger = structlog.get_logger(__name__)


@dramatiq.actor(queue_name="feeds", max_retries=0, flag="rss_polling")
def poll_due_sources() -> str:
    """Fan out: every due source, NT_POLL_BATCH per poll_sources job (apps/articles/polling.py)."""
    due = polling.sources_fan_out()
    logger.info("poll_due_sources", due=due)
    return f"{due} due source(s) queued"


@dramatiq.actor(queue_name="feeds", max_retries=0, flag="rss_polling")
def poll_sources(source_ids: list[int]) -> str:
    """Poll a batch of sources, their fetches concurrently. Feed problems are recorded on each source;
    a bug storing one source's poll ends the job as a dead letter once the others are stored."""
    sources = list(Source.objects.pollable().filter(pk__in=source_ids).order_by("id"))
    return polling.summary(polling.sources_poll(sources=sources))


@dramatiq.actor(queue_name="feeds", max_retries=3, min_backoff=15_000, max_backoff=600_000, flag="rss_polling")
def poll_source(source_id: int) -> str:
    source = Source.objects.pollable().filter(pk=source_id).first()
    if source is None:
        logger.info("poll_source_skipped", source_id=source_id, reason="missing, disabled or its kind's switch is off")
        return "source missing, disabled or its kind's switch is off: nothing polled"
    return polling.summary([polling.source_poll(source=source)])


@dramatiq.actor(queue_name="feeds", max_retries=3, min_backoff=15_000, max_backoff=600_000, flag="rss_polling")
def refresh_source_metadata(source_id: int) -> None:
    services.source_refresh_metadata(source=Source.objects.get(pk=source_id))


@dramatiq.actor(
    queue_name="analysis", max_retries=5, min_backoff=15_000, max_backoff=600_000,
    throws=(AnalysisRejected, PlanInvalid, Article.DoesNotExist),
)
def analyze_article(article_id: int, provider: str | None = None, account_id: int | None = None) -> str:
    """Asked for through the API (account_id), the account is charged the LLM tokens and cost of every
    attempt, failed ones too (billing's record_usage, by actor name; the analysis itself was counted
    when it was asked for)."""
    try:
        analysis = services.article_analyze(article=Article.objects.get(pk=article_id), provider=provider)
    except LLMFailure as exc:
        if account_id is not None and exc.usage:
            enqueue("record_usage", account_id, exc.usage.as_metrics())
        raise
    if account_id is not None:
        enqueue("record_usage", account_id, {
            "prompt_tokens": analysis.prompt_tokens, "completion_tokens": analysis.completion_tokens,
            "llm_cost_usd": str(analysis.cost_usd)})
    return f"{analysis.provider}: {analysis.stance} ({analysis.confidence:.2f}), {analysis.catalyst_type}"


@dramatiq.actor(queue_name="analysis", max_retries=0)
def reanalyze_low_scores(max_confidence: float = 0.5, hours: int = 24, limit: int = 200) -> None:
    """Scheduled: queue a new analysis of recent articles whose analysis was unsure."""
    services.analysis_requeue_unsure(max_confidence=max_confidence, hours=hours, limit=limit)
