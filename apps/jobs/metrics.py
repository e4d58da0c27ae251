"""Prometheus gauges of the ledger, computed from the database when /metrics is scraped."""

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY, Collector


class JobLedgerCollector(Collector):
    def describe(self):
        # Registration asks for the names only: no query while Django is still starting.
        yield GaugeMetricFamily("newstunneler_jobs", "Jobs in the ledger by queue and status", labels=["queue", "status"])
        yield GaugeMetricFamily("newstunneler_dead_letters", "Dead jobs in the ledger")
        yield GaugeMetricFamily("newstunneler_oldest_queued_job_age_seconds", "Age of the oldest queued job")

    def collect(self):
        from apps.jobs.selectors import job_stats

        try:
            stats = job_stats()
        except Exception:  # a scrape must not fail because the database is down; /readyz says so
            return
        jobs = GaugeMetricFamily("newstunneler_jobs", "Jobs in the ledger by queue and status", labels=["queue", "status"])
        for queue, counts in stats["by_queue"].items():
            for status, count in counts.items():
                jobs.add_metric([queue, status], count)
        yield jobs
        yield GaugeMetricFamily("newstunneler_dead_letters", "Dead jobs in the ledger", value=stats["dead"])
        yield GaugeMetricFamily("newstunneler_oldest_queued_job_age_seconds", "Age of the oldest queued job",
                                value=stats["oldest_queued_age_seconds"] or 0)


_registered = False


def register() -> None:
    global _registered
    if not _registered:
        REGISTRY.register(JobLedgerCollector())
        _registered = True
