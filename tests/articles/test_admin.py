"""The admin pages staff use: they render, escape outside text, and their actions work."""

import pytest
from dramatiq import Message

from apps.articles.models import ScoringPolicy
from tests import factories

pytestmark = pytest.mark.django_db

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_changelists_and_change_pages_render(admin_client):
    article = factories.article("Apple (NASDAQ: AAPL) beats estimates, raises guidance", analyse=True)
    for url in ["/admin/articles/source/", "/admin/articles/article/", f"/admin/articles/article/{article.pk}/change/",
                "/admin/signals/signal/", "/admin/articles/article/?score=gte16", "/admin/articles/article/?ticker=AAPL",
                "/admin/articles/source/add/"]:
        response = admin_client.get(url)
        assert response.status_code == 200, url


def test_outside_text_is_escaped_everywhere(admin_client):
    feed = factories.source(name=EVIL, url="https://evil.example.com/rss?<b>")
    article = factories.article(f"{EVIL} Apple (NASDAQ: AAPL) beats estimates", summary=EVIL, source_obj=feed, analyse=True)
    for url in ["/admin/articles/source/", "/admin/articles/article/", f"/admin/articles/article/{article.pk}/change/",
                "/admin/signals/signal/"]:
        html = admin_client.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html, url
        assert "&lt;script&gt;" in html, url


def test_poll_now_action_queues_polls(admin_client, broker, django_capture_on_commit_callbacks):
    sources = [factories.source(), factories.source()]
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/articles/source/", {
            "action": "poll_now", "_selected_action": [s.pk for s in sources]}, follow=True)
    assert "Queued a poll of 2 source(s)." in response.content.decode()
    assert sorted(Message.decode(m).args[0] for m in broker.queues["feeds"].queue) == sorted(s.pk for s in sources)


def test_scoring_policy_is_a_single_editable_row(admin_client):
    response = admin_client.get("/admin/articles/scoringpolicy/")
    assert response.status_code == 302 and response["Location"].endswith("/admin/articles/scoringpolicy/1/change/")
    response = admin_client.post("/admin/articles/scoringpolicy/1/change/", {
        "weight_catalyst": 2, "weight_novelty": 1, "weight_credibility": 1, "weight_sentiment": 1,
        "weight_liquidity": 1, "alert_threshold": 15, "ticker_min_confidence": 0.9, "signal_alert_score": 80})
    assert response.status_code == 302
    policy = ScoringPolicy.current()
    assert (policy.weight_catalyst, policy.alert_threshold, policy.ticker_min_confidence) == (2, 15, 0.9)
    assert policy.signal_alert_score == 80
    assert admin_client.get("/admin/articles/scoringpolicy/add/").status_code == 403


def test_non_staff_cannot_reach_the_admin(client, analyst):
    client.force_login(analyst)
    response = client.get("/admin/articles/source/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
