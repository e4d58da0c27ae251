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
