"""One error shape across the API: {"detail", "code"}, plus "errors" by field on a 400."""

import pytest

pytestmark = pytest.mark.django_db


def test_unknown_api_url_is_json_404(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404 and response.json() == {"detail": "Not found.", "code": "not_found"}


def test_unknown_page_outside_the_api_stays_html(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404 and "text/html" in response["Content-Type"]


@pytest.mark.parametrize("persona", ["viewer", "admin_user"])
def test_wrong_method_is_json_405_whatever_the_role(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    response = client.delete("/api/v1/signals/")
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.', "code": "method_not_allowed"}


def test_bad_input_lists_every_field(client, viewer):
    client.force_login(viewer)
    body = client.get("/api/v1/articles/?min_score=x&since=y").json()
    assert body["code"] == "invalid" and set(body["errors"]) == {"min_score", "since"}
    assert body["detail"] == "Invalid input: min_score, since."


def test_an_id_too_large_for_the_database_is_a_400_not_a_crash(client, viewer):
    # Found by schemathesis: ?source=72975998070813392896 was a 500 (OverflowError in the database driver).
    client.force_login(viewer)
    body = client.get("/api/v1/articles/?source=72975998070813392896").json()
    assert body["code"] == "invalid" and list(body["errors"]) == ["source"]


def test_a_cursor_that_is_not_ours_is_a_400_naming_cursor(client, viewer):
    client.force_login(viewer)
    response = client.get("/api/v1/signals/?cursor=MkM")
    assert response.status_code == 400
    assert response.json()["errors"] == {"cursor": ["Invalid cursor: follow the next/previous links of a page."]}


def test_query_parameters_are_validated_with_or_without_the_fast_path(client, viewer):
    # No filter named: the answer for "no parameters" is reused (defaults included); a named one is validated.
    client.force_login(viewer)
    assert client.get("/api/v1/signals/top/").status_code == 200  # defaults hours=24, limit=20
    assert client.get("/api/v1/signals/top/?unrelated=1").status_code == 200
    bad = client.get("/api/v1/signals/top/?limit=0")
    assert bad.status_code == 400 and list(bad.json()["errors"]) == ["limit"]
    missing = client.get("/api/v1/signals/search/")  # q is required: never served from the reuse
    assert missing.status_code == 400 and list(missing.json()["errors"]) == ["q"]


@pytest.fixture
def plain_client(admin_user):
    """A client that answers like a server does (the test client re-raises view exceptions otherwise)."""
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


def test_json_nested_50000_deep_is_a_json_400(plain_client):
    response = plain_client.post("/api/v1/sources/", "[" * 50_000 + "]" * 50_000, content_type="application/json")
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "JSON parse error - nested too deeply.", "code": "too_deep"}


@pytest.mark.parametrize("content_type, body", [
    ("application/json", '{"url": "https://x.example.com/' + "a" * 3_000_000 + '"}'),
    ("application/x-www-form-urlencoded", "url=" + "a" * 3_000_000),
])
def test_a_body_over_the_limit_is_a_json_413(plain_client, content_type, body):
    response = plain_client.post("/api/v1/sources/", body, content_type=content_type)
    assert response.status_code == 413 and response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The request body is larger than the 2.5 MB limit.", "code": "too_large"}


def test_django_level_errors_under_the_api_are_json_and_html_elsewhere(plain_client):
    response = plain_client.get("/api/v1/signals/", HTTP_HOST="evil.example.com")  # DisallowedHost: a 400
    assert response.status_code == 400 and response.json() == {"detail": "Bad request.", "code": "bad_request"}
    page = plain_client.get("/admin/", HTTP_HOST="evil.example.com")
    assert page.status_code == 400 and "text/html" in page["Content-Type"]
