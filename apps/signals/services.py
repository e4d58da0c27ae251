"""Every write of the signals app."""

from dataclasses import dataclass
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps import flags
from apps.articles.models import Analysis, Article, ScoringPolicy
from apps.signals import insiders, notify, predictions, scoring, social
from apps.signals.models import Signal
from newstunneler import telemetry

logger = structlog.get_logger(__name__)
STANCE_SIGN = {"BULLISH": 1.0, "BEARISH": -1.0, "NEUTRAL": 0.0}


def features_for(analysis: Analysis) -> dict[str, float]:
    article_score = getattr(analysis.article, "score", None)
    lexical = article_score.sentiment if article_score else 0.0
    # The analyser's stance and confidence lead; the lexicon tone tempers it.
    sentiment = max(-1.0, min(1.0, 0.75 * STANCE_SIGN[analysis.stance] * analysis.confidence + 0.25 * lexical))
    return {
        "sentiment": round(sentiment, 4),
        "magnitude": round(min(1.0, (article_score.catalyst if article_score else 0.0) / 5.0), 4),
        "novelty": round((article_score.novelty if article_score else 5.0) / 5.0, 4),
        "credibility": round((article_score.credibility if article_score else 2.0) / 5.0, 4),
    }


@transaction.atomic
def signals_from_analysis(*, analysis: Analysis, announce: bool = True) -> list[Signal]:
    """Upsert one signal per ticker of the analysis at the article's publication time. New strong ones,
    and existing ones a re-analysis turned strong, are announced (alerts, webhooks, live stream) unless
    `announce` is False (backfills)."""
    article = analysis.article
    features = features_for(analysis)
    text = f"{article.title}. {article.summary}"
    base = scoring.score(features, text)
    symbols = list(dict.fromkeys(analysis.tickers))
    before = dict(Signal.objects.filter(symbol__in=symbols, t=article.published_at).values_list("symbol", "score"))
    policy = ScoringPolicy.current()
    strong = policy.signal_alert_score
    social_on = flags.is_enabled("social_sentiment")
    signals, created = [], []
    for symbol in symbols:
        scored = base
        found = social.spike(symbol, article.published_at, policy) if social_on else None
        if found is not None:  # this symbol's social spike moves its signal (apps/signals/social.py)
            scored = scoring.score(features, text, extra=[found.reason()])
        signal, new = Signal.objects.update_or_create(
            symbol=symbol, t=article.published_at,
            defaults={
                "score": scored.score, "label": scored.label, "stance": analysis.stance, "reasons": scored.reasons,
                "features": {**features, "raw": scored.raw, "confidence": analysis.confidence}, "article": article,
            },
        )
        signals.append(signal)
        if new:
            telemetry.SIGNALS.labels(signal.label).inc()
        if new or before.get(symbol, 0) < strong <= signal.score:  # new, or turned strong: announced once
            created.append(signal)
    _annotate(signals, catalyst=analysis.catalyst_type)
    if announce:
        notify.signals_created(created)  # strong, fresh new ones are announced once this commits
    logger.info("signals_built", analysis_id=analysis.pk, symbols=[s.symbol for s in signals], score=base.score)
    return signals


@transaction.atomic
def signals_from_filing(*, article: Article, announce: bool = True) -> list[Signal]:
    """A Form 4 filing's insider signal (apps/signals/insiders.py) at the filing's time, if its open-market
    trades by officers or directors reach the policy's minimum; announced like any new strong signal."""
    policy = ScoringPolicy.current()
    found = insiders.score_filing(article, policy)
    if found is None:
        return []
    value = round(scoring.squash(found.raw), 2)
    signal, new = Signal.objects.update_or_create(
        symbol=found.symbol, t=article.published_at,
        defaults={"score": value, "label": scoring.label_for(value), "stance": found.stance, "reasons": found.reasons,
                  "features": {"raw": found.raw, "catalyst": "INSIDER", "insider_bought": float(found.bought),
                               "insider_sold": float(found.sold)}, "article": article})
    if new:
        telemetry.SIGNALS.labels(signal.label).inc()
    _annotate([signal], catalyst="INSIDER")
    if announce and new:
        notify.signals_created([signal])
    logger.info("insider_signal", article_id=article.pk, symbol=signal.symbol, score=signal.score, new=new)
    return [signal]


def _annotate(signals: list[Signal], *, catalyst: str) -> None:
    """The prediction flags' additions (apps/signals/predictions.py). A failure there is logged and
    costs only the additions: the signals themselves stand."""
    try:
        predictions.annotate(signals, catalyst=catalyst)
    except Exception:  # noqa: BLE001 - whatever the model or its blob raises
        logger.exception("signal_predictions_failed", symbols=[s.symbol for s in signals])


def signal_record(*, symbol: str, t, score: float, label: str, reasons: list, features: dict,
                  article: Article | None = None) -> tuple[Signal, bool]:
    """Record a signal made elsewhere (an import of the original system's history), once per symbol and
    time, validated, never announced. Returns (signal, created); an existing one is left as it is."""
    signal = Signal(symbol=symbol.strip().upper(), t=t, score=score, label=label, reasons=reasons, features=features,
                    article=article)
    signal.full_clean(exclude=["reasons", "features"], validate_unique=False, validate_constraints=False)  # may be empty
    return Signal.objects.get_or_create(symbol=signal.symbol, t=t, defaults={
        "score": score, "label": label, "reasons": reasons, "features": features, "article": article})


@dataclass
class CleanupResult:
    signals: int
    articles: int


def retention_cleanup(*, now=None) -> CleanupResult:
    """Delete signals older than NT_SIGNAL_RETENTION_DAYS, then articles older than
    NT_ARTICLE_RETENTION_DAYS, published and fetched, that no signal references (a referenced article is
    kept; so is old news fetched lately: deleted, it would come back with the next poll of a feed still
    listing it, to be scored and analysed again)."""
    now = now or timezone.now()
    # delete() counts cascaded rows too: take each model's own count.
    _, by_model = Signal.objects.filter(t__lt=now - timedelta(days=settings.SIGNAL_RETENTION_DAYS)).delete()
    signals = by_model.get("signals.Signal", 0)
    cutoff = now - timedelta(days=settings.ARTICLE_RETENTION_DAYS)
    old_articles = Article.objects.filter(published_at__lt=cutoff, fetched_at__lt=cutoff)
    referenced = Signal.objects.filter(article__isnull=False).values("article_id")
    _, by_model = old_articles.exclude(pk__in=referenced).delete()
    articles = by_model.get("articles.Article", 0)
    logger.info("retention_cleanup", signals=signals, articles=articles)
    return CleanupResult(signals=signals, articles=articles)
