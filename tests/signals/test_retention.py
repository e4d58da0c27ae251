from datetime import timedelta

import pytest
from django.utils import timezone

from apps.articles.models import Article
from apps.signals.models import Signal
from apps.signals.services import retention_cleanup
from tests import factories

pytestmark = pytest.mark.django_db


def test_old_signals_go_and_referenced_articles_stay(settings):
    settings.SIGNAL_RETENTION_DAYS, settings.ARTICLE_RETENTION_DAYS = 30, 90
    now = timezone.now()
    old_signal = factories.article("Apple (NASDAQ: AAPL) beats estimates, raises guidance", analyse=True,
                                   published_at=now - timedelta(days=31))
    kept_by_signal = factories.article("Microsoft (NASDAQ: MSFT) wins record contract award", analyse=True,
                                       published_at=now - timedelta(days=20))
    Article.objects.filter(pk=kept_by_signal.pk).update(published_at=now - timedelta(days=100))
    unreferenced = factories.article("Bakery opens", published_at=now - timedelta(days=100))
    Article.objects.filter(pk=unreferenced.pk).update(fetched_at=now - timedelta(days=100))
    recent = factories.article("Bakery opens again downtown", published_at=now - timedelta(days=1))
    # Old news fetched lately stays for the whole window (deleted now, a feed still listing it would
    # bring it back on the next poll, to be scored and analysed again every day).
    old_news_fetched_today = factories.article("Bakery history retold", published_at=now - timedelta(days=400))

    result = retention_cleanup(now=now)

    assert not Signal.objects.filter(article=old_signal).exists()
    assert Signal.objects.filter(article=kept_by_signal).exists()
    remaining = set(Article.objects.values_list("pk", flat=True))
    assert kept_by_signal.pk in remaining and recent.pk in remaining and old_signal.pk in remaining
    assert old_news_fetched_today.pk in remaining
    assert unreferenced.pk not in remaining
    assert (result.signals, result.articles) == (1, 1)
