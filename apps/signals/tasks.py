"""Actors of the signals app."""

import dramatiq

from apps.articles.models import Analysis
from apps.signals import services


@dramatiq.actor(queue_name="signals", max_retries=3, throws=(Analysis.DoesNotExist,))
def signals_from_analysis(analysis_id: int) -> None:
    analysis = Analysis.objects.select_related("article", "article__score").get(pk=analysis_id)
    services.signals_from_analysis(analysis=analysis)


@dramatiq.actor(queue_name="maintenance", max_retries=1)
def retention_cleanup() -> None:
    services.retention_cleanup()
