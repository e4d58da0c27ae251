"""Signals with chosen scores for notify tests: built through ingest + the offline analyser, then set
to the score, label and time a test needs."""

from datetime import timedelta

from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from apps.signals.models import Signal
from apps.signals.scoring import label_for
from tests import factories


def signal(title: str, score: float, hours_ago: float = 1) -> Signal:
    # Jobs inline while building: the analysis' queued signals job would otherwise run later, in the
    # test's worker, and put the computed score back.
    with override_settings(FLAG_OVERRIDES={**settings.FLAG_OVERRIDES, "async_jobs": False}):
        article = factories.article(title, summary=f"{title}. More detail.", analyse=True,
                                    published_at=timezone.now() - timedelta(hours=hours_ago))
    found = Signal.objects.get(article=article)
    Signal.objects.filter(pk=found.pk).update(score=score, label=label_for(score))
    found.refresh_from_db()
    return found


def subscribe(**fields):
    """A confirmed subscription, as one to the user's own address, or made by staff, is."""
    from apps.signals.models import DigestSubscription

    return DigestSubscription.objects.create(confirmed_at=timezone.now(), **fields)
