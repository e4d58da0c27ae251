"""social_sentiment: social posts counted per symbol and hour at ingest (bullish or bearish by their
tone); an hour far above the symbol's own 7-day baseline adds a social component with its reason to the
symbol's signals, while the switch is on; a symbol whose chatter is usual gets none."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.articles import services
from apps.articles.feeds import Entry
from apps.articles.models import ScoringPolicy, SocialHour
from apps.flags.checks import clear_local_cache
from apps.signals import services as signal_services

pytestmark = pytest.mark.django_db


WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa".split()
_seq = iter(range(10_000))


def _posts(n, text, symbol_hour):
    """n distinct posts (same-titled ones would be one story to the de-duplication)."""
    tags = [f"{WORDS[k % 16]} {WORDS[k // 16 % 16]} {WORDS[k // 256 % 16]}" for k in (next(_seq) for _ in range(n))]
    entries = [Entry(url=f"https://x.com/u{i}/status/{tag.replace(' ', '')}", title=f"{text} {tag}", summary=f"{text} {tag}",
                     published_at=symbol_hour + timedelta(minutes=i % 50), meta={"platform": "x", "id": str(1000 + i)})
               for i, tag in enumerate(tags)]
    services.article_ingest(source=None, entries=entries, fetched_at=timezone.now(), queue_analyses=False)


def _baseline(symbol, hour, per_hour=(1, 2, 0, 1)):
    SocialHour.objects.bulk_create([SocialHour(symbol=symbol, hour=hour - timedelta(hours=h), mentions=per_hour[h % 4])
                                    for h in range(1, 7 * 24 + 1)])


def _news_signal(published_at):
    tag = WORDS[next(_seq) % 16]
    article = services.article_ingest(source=None, entries=[Entry(
        url=f"https://news.example.com/nvda-{published_at.timestamp()}",
        title=f"Nvidia beats estimates and raises guidance {tag}",
        summary="Nvidia Corp reported record revenue.", published_at=published_at)], fetched_at=timezone.now())
    from apps.articles.models import Article

    obj = Article.objects.get(pk=article.article_ids[0])
    analysis = services.article_analyze(article=obj, provider="offline")
    return {s.symbol: s for s in signal_services.signals_from_analysis(analysis=analysis, announce=False)}["NVDA"]


def test_posts_are_counted_per_symbol_and_hour_with_their_stance():
    hour = timezone.now().replace(minute=0, second=0, microsecond=0)
    _posts(6, "$NVDA record surge, strong beat, bullish upgrade", hour)
    _posts(2, "$NVDA plunges on weak guidance, downgrade", hour)
    row = SocialHour.objects.get(symbol="NVDA", hour=hour)
    assert (row.mentions, row.bullish, row.bearish) == (8, 6, 2)


def test_a_spike_adds_a_social_component_only_while_the_switch_is_on(settings):
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    _baseline("NVDA", hour)
    _posts(30, "$NVDA record surge, strong beat, bullish upgrade", hour)

    settings.FLAG_OVERRIDES = {"social_sentiment": False}
    without = _news_signal(hour + timedelta(minutes=30))
    assert all(reason["factor"] != "social" for reason in without.reasons)

    settings.FLAG_OVERRIDES = {"social_sentiment": True}
    clear_local_cache()
    with_spike = _news_signal(hour + timedelta(minutes=31))
    social = next(reason for reason in with_spike.reasons if reason["factor"] == "social")
    assert social["contribution"] > 0 and with_spike.score > without.score
    mentions = SocialHour.objects.get(symbol="NVDA", hour=hour).mentions
    assert mentions >= 25  # (a few of the generated posts are one story to the title de-duplication)
    assert social["detail"].startswith(f"{mentions} social mentions in the hour vs 1.0 ± 1.0 usual")
    assert "net bullish" in social["detail"]


def test_usual_chatter_and_the_policys_thresholds_add_nothing(settings):
    settings.FLAG_OVERRIDES = {"social_sentiment": True}
    hour = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=1)
    _baseline("NVDA", hour, per_hour=(8, 10, 12, 10))
    _posts(11, "$NVDA record surge, strong beat, bullish upgrade", hour)  # an ordinary hour for this symbol
    assert all(reason["factor"] != "social" for reason in _news_signal(hour + timedelta(minutes=30)).reasons)

    policy = ScoringPolicy.current()
    policy.social_spike_z, policy.social_min_mentions = 0.5, 50  # a spike needs 50 mentions now
    policy.save()
    assert all(reason["factor"] != "social" for reason in _news_signal(hour + timedelta(minutes=32)).reasons)
