"""Every write of the signals app."""

from datetime import timedelta

import structlog
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.articles.models import Analysis
from apps.signals import scoring
from apps.signals.models import Signal

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
def signals_from_analysis(*, analysis: Analysis) -> list[Signal]:
    """Upsert one signal per ticker of the analysis at the article's publication time."""
    article = analysis.article
    features = features_for(analysis)
    scored = scoring.score(features, f"{article.title}. {article.summary}")
    signals = []
    for symbol in dict.fromkeys(analysis.tickers):
        signal, _ = Signal.objects.update_or_create(
            symbol=symbol, t=article.published_at,
            defaults={
                "score": scored.score, "label": scored.label, "stance": analysis.stance, "reasons": scored.reasons,
                "features": {**features, "raw": scored.raw, "confidence": analysis.confidence}, "article": article,
            },
        )
        signals.append(signal)
    logger.info("signals_built", analysis_id=analysis.pk, symbols=[s.symbol for s in signals], score=scored.score)
    return signals


def signals_cleanup(*, now=None) -> int:
    """Delete signals past retention (NT_SIGNAL_RETENTION_DAYS)."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.SIGNAL_RETENTION_DAYS)
    deleted, _ = Signal.objects.filter(t__lt=cutoff).delete()
    return deleted
