import pytest
from dramatiq import Message

from apps.articles.models import Source
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst_api(client, analyst):
    client.force_login(analyst)
    return client


def test_create_with_default_credibility(analyst_api, settings):
    response = analyst_api.post("/api/v1/sources/", {"url": "https://www.sec.gov/feed.xml", "name": "SEC"},
                                content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["credibility"] == 5.0 and response.json()["poll_interval_minutes"] == 15


@pytest.mark.parametrize(("url", "message"), [
    ("ftp://example.com/feed", "only http and https"),
    ("not a url", "Enter a valid URL"),
    ("http://127.0.0.1:8000/feed", "private, loopback"),
    ("http://10.0.0.5/feed", "private, loopback"),
])
def test_bad_urls_are_400_naming_the_field(analyst_api, settings, url, message):
    settings.ALLOW_PRIVATE_URLS = False
    response = analyst_api.post("/api/v1/sources/", {"url": url}, content_type="application/json")
    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"]["url"])


def test_duplicate_url_is_400(analyst_api):
    factories.source(url="https://dup.example.com/rss")
    response = analyst_api.post("/api/v1/sources/", {"url": "https://dup.example.com/rss"}, content_type="application/json")
    assert response.status_code == 400 and "url" in response.json()["errors"]


def test_update_and_delete(analyst_api):
    source = factories.source()
    response = analyst_api.patch(f"/api/v1/sources/{source.pk}/", {"enabled": False, "credibility": 9},
                                 content_type="application/json")
    assert response.status_code == 400 and "credibility" in response.json()["errors"]
    response = analyst_api.patch(f"/api/v1/sources/{source.pk}/", {"enabled": False}, content_type="application/json")
    assert response.status_code == 200 and Source.objects.get(pk=source.pk).enabled is False
    assert analyst_api.delete(f"/api/v1/sources/{source.pk}/").status_code == 204


def test_viewers_read_but_cannot_write(client, viewer):
    client.force_login(viewer)
    factories.source()
    assert client.get("/api/v1/sources/").status_code == 200
    assert client.post("/api/v1/sources/", {"url": "https://x.example.com/"}, content_type="application/json").status_code == 403


def test_poll_now_is_accepted(analyst_api, broker, django_capture_on_commit_callbacks):
    source = factories.source()
    with django_capture_on_commit_callbacks(execute=True):
        response = analyst_api.post(f"/api/v1/sources/{source.pk}/poll/")
    assert response.status_code == 202
    assert [Message.decode(m).message_id for m in broker.queues["feeds"].queue] == [response.json()["job_id"]]
