"""The scoring policy through the API: analysts read it, staff change it (validated, logged), others may not."""

import pytest
from django.test import Client

from apps.articles.models import ScoringPolicy

pytestmark = pytest.mark.django_db

URL = "/api/v1/settings/scoring/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_analysts_read_staff_change_viewers_neither(analyst, viewer, admin_user):
    policy = _client(analyst).get(URL)
    assert policy.status_code == 200 and policy.json()["alert_threshold"] == ScoringPolicy.current().alert_threshold
    assert _client(viewer).get(URL).status_code == 403
    refused = _client(analyst).patch(URL, {"alert_threshold": 5}, content_type="application/json")
    assert refused.status_code == 403 and refused.json()["detail"] == "Only staff change the scoring policy."
    changed = _client(admin_user).patch(URL, {"alert_threshold": 9.5, "weight_sentiment": 2},
                                        content_type="application/json")
    assert changed.status_code == 200 and (changed.json()["alert_threshold"], changed.json()["weight_sentiment"]) == (9.5, 2)
    stored = ScoringPolicy.current()
    assert (stored.alert_threshold, stored.weight_sentiment, stored.weight_novelty) == (9.5, 2.0, 1.0)


def test_bad_values_are_400s_naming_the_field(admin_user):
    for body, field in [({"ticker_min_confidence": 1.5}, "ticker_min_confidence"), ({"weight_catalyst": -1}, "weight_catalyst"),
                        ({"signal_alert_score": "high"}, "signal_alert_score")]:
        answer = _client(admin_user).patch(URL, body, content_type="application/json")
        assert answer.status_code == 400 and field in answer.json()["errors"], body
    assert ScoringPolicy.current().ticker_min_confidence == 0.75  # nothing changed
