"""Gauges computed from the database when /metrics is scraped (as the job ledger's are), for the alert
rules that need the state of things rather than a count of events: today's LLM spend against its alert
amount, and how long the longest-failing source has been failing."""

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector

FAMILIES = {
    "newstunneler_llm_spend_today_usd": "LLM spend since 00:00 UTC today, in USD",
    "newstunneler_llm_spend_alert_usd": "Today's LLM spend that raises an alert (NT_LLM_SPEND_ALERT_USD)",
    "newstunneler_llm_daily_budget_usd": "Today's LLM budget (NT_LLM_DAILY_BUDGET_USD): analyses stop using the LLM past it",
    "newstunneler_sources_failing": "Enabled sources whose last poll failed",
    "newstunneler_source_longest_failure_seconds": "How long the longest-failing enabled source has failed (0: none)",
}


class PipelineCollector(Collector):
    def describe(self):
        for name, text in FAMILIES.items():  # names only: no query while Django starts
            yield GaugeMetricFamily(name, text)

    def collect(self):
        from django.conf import settings
        from django.db.models import Min
        from django.utils import timezone

        from apps.articles.analysis import budget
        from apps.articles.models import Source

        try:
            now = timezone.now()
            spent = float(budget.spent_today(now))
            failing = Source.objects.filter(enabled=True, consecutive_failures__gt=0)
            oldest = failing.aggregate(since=Min("last_success_at"))["since"]
            never = failing.filter(last_success_at__isnull=True).aggregate(since=Min("created_at"))["since"]
            since = min(filter(None, [oldest, never]), default=None)
            count = failing.count()
        except Exception:  # a scrape must not fail because the database is down; /readyz says so
            return
        values = {
            "newstunneler_llm_spend_today_usd": spent,
            "newstunneler_llm_spend_alert_usd": settings.LLM_SPEND_ALERT_USD,
            "newstunneler_llm_daily_budget_usd": settings.LLM_DAILY_BUDGET_USD,
            "newstunneler_sources_failing": count,
            "newstunneler_source_longest_failure_seconds": (now - since).total_seconds() if since else 0.0,
        }
        for name, value in values.items():
            yield GaugeMetricFamily(name, FAMILIES[name], value=value)


_registered = False


def register() -> None:
    """For processes without multiprocess mode (the tests, runserver): the default registry collects it."""
    global _registered
    if not _registered:
        REGISTRY.register(PipelineCollector())
        _registered = True
