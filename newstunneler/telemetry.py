"""The pipeline's Prometheus metrics, one place for every family (README, "Metrics"; the alert rules in
docker/prometheus/ and the Grafana dashboard use these names).

Labels stay low-cardinality: outcomes, kinds, providers, models, labels, channels, actors, components and
exception class names; never ids, URLs or symbols. In web and worker processes prometheus_client runs in
multiprocess mode (PROMETHEUS_MULTIPROC_DIR is set by settings.py / gunicorn_conf.py before this module
is imported), so every process's samples are added up by the exposition that serves them.

Job run time per actor is Dramatiq's own histogram, dramatiq_message_duration_milliseconds{actor_name,
queue_name} (its Prometheus middleware, served by the workers' exposition server); the ledger's gauges
(newstunneler_jobs, newstunneler_dead_letters, newstunneler_oldest_queued_job_age_seconds) are computed at
scrape time (apps/jobs/metrics.py); HTTP durations are django-prometheus's."""

from prometheus_client import Counter, Histogram

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)

FEED_FETCHES = Counter("newstunneler_feed_fetches_total", "Feed fetches by outcome (ok, not_modified, failed)",
                       ["outcome"])
FEED_FETCH_SECONDS = Histogram("newstunneler_feed_fetch_seconds", "Time to fetch a feed, by outcome", ["outcome"],
                               buckets=DURATION_BUCKETS)
FEED_ERRORS = Counter("newstunneler_feed_errors_total", "Feed failures by kind (http, timeout, parse, blocked, ...)",
                      ["kind"])
ARTICLES_INGESTED = Counter("newstunneler_articles_ingested_total", "New articles stored")
ARTICLE_DUPLICATES = Counter("newstunneler_article_duplicates_total", "Entries skipped as already known")
ANALYSES = Counter("newstunneler_analyses_total", "Analyses by provider and outcome (ok, failed)",
                   ["provider", "outcome"])
ANALYSIS_SECONDS = Histogram("newstunneler_analysis_seconds", "Time to analyse an article, by provider", ["provider"],
                             buckets=DURATION_BUCKETS)
LLM_TOKENS = Counter("newstunneler_llm_tokens_total", "LLM tokens by model and direction (prompt, completion)",
                     ["model", "direction"])
LLM_COST = Counter("newstunneler_llm_cost_usd_total", "LLM spend in USD by model", ["model"])
SIGNALS = Counter("newstunneler_signals_total", "Signals made, by label", ["label"])
NOTIFICATIONS = Counter("newstunneler_notifications_total",
                        "Notifications by channel (slack, webhook, stream, email) and outcome (sent, failed, skipped)",
                        ["channel", "outcome"])
SCHEDULER_TICKS = Counter("newstunneler_scheduler_ticks_total", "Scheduler ticks (each fires what is due)")
SCHEDULER_FIRED = Counter("newstunneler_scheduler_jobs_total", "Jobs the scheduler started or recovered")
ERRORS = Counter("newstunneler_errors_total", "Errors by component (jobs, feeds, notify, analysis, web) and type",
                 ["component", "type"])


def error(component: str, exc: BaseException | str) -> None:
    """Count an error of `component`; its type is the exception's class name (or the given text)."""
    ERRORS.labels(component, exc if isinstance(exc, str) else type(exc).__name__).inc()
