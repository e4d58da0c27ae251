"""Signal score: a weighted sum of features plus topic nudges, squashed to 0-100."""

import math
from dataclasses import dataclass

from apps.articles import lexicon
from apps.signals.models import Label

WEIGHTS = {"sentiment": 24.0, "magnitude": 16.0, "novelty": 10.0, "credibility": 8.0}
_TOPIC_PATTERNS = {topic: (points, lexicon.phrase_pattern(phrases)) for topic, (points, phrases) in lexicon.TOPICS.items()}
# A contribution smaller than this does not make the reasons list.
MATERIAL = 1.0


@dataclass
class Scored:
    score: float
    label: str
    reasons: list[dict]
    raw: float


def squash(value: float) -> float:
    return 100.0 / (1.0 + math.exp(-0.06 * value))


def label_for(score: float) -> str:
    if score >= 75:
        return Label.HIGH_CONVICTION
    if score >= 60:
        return Label.OPPORTUNITY
    if score >= 45:
        return Label.WATCH
    return Label.IGNORE


def topics(text: str) -> dict[str, float]:
    return {topic: points for topic, (points, pattern) in _TOPIC_PATTERNS.items() if pattern.search(text)}


def score(features: dict[str, float], text: str, extra: list[dict] | None = None) -> Scored:
    """features: sentiment -1..1, magnitude/novelty/credibility 0..1. `extra`: more components as reasons
    ({"factor", "contribution", "detail"}: the social spike), added as they are."""
    contributions = {name: WEIGHTS[name] * features[name] for name in WEIGHTS}
    contributions.update({f"topic:{topic}": points for topic, points in topics(text).items()})
    details = {}
    for reason in extra or []:
        contributions[reason["factor"]] = reason["contribution"]
        details[reason["factor"]] = reason.get("detail", "")
    raw = sum(contributions.values())
    value = round(squash(raw), 2)
    reasons = [
        {"factor": name, "contribution": round(points, 2), **({"detail": details[name]} if details.get(name) else {})}
        for name, points in sorted(contributions.items(), key=lambda item: -abs(item[1]))
        if abs(points) >= MATERIAL
    ]
    return Scored(score=value, label=label_for(value), reasons=reasons, raw=round(raw, 3))
