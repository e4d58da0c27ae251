import pytest
from dramatiq import Message

from apps.articles.models import Article
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(client, viewer):
    client.force_login(viewer)
    return client


def test_anonymous_gets_401_with_a_json_body(client):
    response = client.get("/api/v1/articles/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}
    assert response["WWW-Authenticate"] == "Api-Key"


def test_list_newest_first_with_cursor_pagination(api):
    for day in (18, 19, 20):
        factories.article(f"Story of day {day} about widgets", published_at=factories.at(day))
    first = api.get("/api/v1/articles/?page_size=2").json()
    assert [a["title"] for a in first["results"]] == ["Story of day 20 about widgets", "Story of day 19 about widgets"]
    second = api.get(first["next"]).json()
    assert [a["title"] for a in second["results"]] == ["Story of day 18 about widgets"]
    assert second["next"] is None


def test_filters(api):
    feed = factories.source()
    strong = factories.article("Apple (NASDAQ: AAPL) beats estimates, raises guidance on record revenue", source_obj=feed,
                               published_at=factories.at(20))
    factories.article("Tesla opens a showroom", published_at=factories.at(19))
    titles = lambda url: [a["title"] for a in api.get(url).json()["results"]]  # noqa: E731
    assert titles("/api/v1/articles/?ticker=aapl") == [strong.title]
    assert titles(f"/api/v1/articles/?source={feed.pk}") == [strong.title]
    assert titles(f"/api/v1/articles/?min_score={strong.score.total}") == [strong.title]
    assert titles("/api/v1/articles/?since=2026-11-20T00:00:00Z") == [strong.title]
    assert titles("/api/v1/articles/?q=showroom") == ["Tesla opens a showroom"]


@pytest.mark.parametrize(("query", "field"), [("min_score=high", "min_score"), ("since=yesterday", "since"),
                                              ("source=-1", "source"), ("ticker=$$$", "ticker")])
def test_bad_filters_are_400_naming_the_field(api, query, field):
    response = api.get(f"/api/v1/articles/?{query}")
    assert response.status_code == 400
    assert field in response.json()["errors"] and field in response.json()["detail"]


def test_detail_has_score_and_analysis(api):
    article = factories.article("Apple (NASDAQ: AAPL) beats estimates, raises guidance", analyse=True)
    body = api.get(f"/api/v1/articles/{article.pk}/").json()
    assert body["score"]["total"] == article.score.total
    assert body["analysis"]["stance"] == "BULLISH" and body["analysis"]["provider"] == "offline"
    assert api.get("/api/v1/articles/999999/").status_code == 404


def test_analyze_is_accepted_with_a_job_id(client, analyst, broker, django_capture_on_commit_callbacks):
    client.force_login(analyst)
    article = factories.article("Some headline")
    broker.flush_all()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/api/v1/articles/{article.pk}/analyze/", {"provider": "offline"},
                               content_type="application/json")
    assert response.status_code == 202
    (message,) = [Message.decode(m) for m in broker.queues["analysis"].queue]
    assert response.json() == {"job_id": message.message_id, "article_id": article.pk}


def test_analyze_needs_the_analyst_role(api):
    article = factories.article("Some headline")
    response = api.post(f"/api/v1/articles/{article.pk}/analyze/")
    assert response.status_code == 403
    assert response.json()["detail"] == "Your role lacks: articles.request_analysis."


def test_analyze_rejects_an_unknown_provider(client, analyst):
    client.force_login(analyst)
    article = factories.article("Some headline")
    response = client.post(f"/api/v1/articles/{article.pk}/analyze/", {"provider": "magic"}, content_type="application/json")
    assert response.status_code == 400 and "provider" in response.json()["errors"]


def test_outside_text_is_returned_as_data_not_markup(api):
    article = factories.article("<script>alert(1)</script> Acme wins contract")
    assert Article.objects.get(pk=article.pk).title == "<script>alert(1)</script> Acme wins contract"
    response = api.get(f"/api/v1/articles/{article.pk}/")
    assert response["Content-Type"] == "application/json"
