import math

import pytest

from apps.signals import scoring

NEUTRAL = {"sentiment": 0.0, "magnitude": 0.0, "novelty": 0.0, "credibility": 0.0}


def test_squash_is_the_documented_logistic():
    assert scoring.squash(0) == 50
    assert scoring.squash(20) == pytest.approx(100 / (1 + math.exp(-1.2)))


@pytest.mark.parametrize(("score", "label"), [(75, "High-Conviction"), (74.9, "Opportunity"), (60, "Opportunity"),
                                              (45, "Watch"), (44.9, "Ignore")])
def test_labels(score, label):
    assert scoring.label_for(score) == label


def test_weights_and_nudges_with_reasons():
    features = {"sentiment": 1.0, "magnitude": 0.5, "novelty": 1.0, "credibility": 1.0}
    scored = scoring.score(features, "Acme raises guidance after earnings beat")
    # 24 + 8 + 10 + 8 + guidance up 8 + earnings 4 = 62
    assert scored.raw == 62
    assert scored.score == pytest.approx(scoring.squash(62), abs=0.01)
    assert scored.label == "High-Conviction"
    assert scored.reasons[0] == {"factor": "sentiment", "contribution": 24.0}
    assert {"factor": "topic:guidance_up", "contribution": 8.0} in scored.reasons


@pytest.mark.parametrize(("text", "raw"), [
    ("Acme cuts guidance", -10), ("Acme to acquire Widget", 6), ("Acme faces lawsuit", -6),
    ("Analyst downgrades Acme", -5), ("Analyst upgrades Acme", 5),
])
def test_topic_nudges(text, raw):
    assert scoring.score(NEUTRAL, text).raw == raw


def test_bearish_news_scores_low():
    scored = scoring.score({"sentiment": -0.9, "magnitude": 0.6, "novelty": 1, "credibility": 0.8}, "Acme cuts guidance")
    assert scored.label == "Ignore" and scored.score < 45
