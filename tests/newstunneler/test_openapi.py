import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_schema_documents_every_endpoint(client, viewer):
    refused = client.get("/api/schema/")
    assert refused.status_code == 401 and refused["Content-Type"] == "application/json"  # JSON, not YAML
    assert refused.json() == {"detail": "Authentication credentials were not provided.", "code": "not_authenticated"}
    client.force_login(viewer)
    schema = yaml.safe_load(client.get("/api/schema/").content)
    assert schema["openapi"].startswith("3.")
    for path in ["/api/v1/articles/", "/api/v1/articles/{id}/analyze/", "/api/v1/sources/{id}/poll/",
                 "/api/v1/signals/top/", "/api/v1/jobs/stats", "/api/v1/flags/{name}/toggle/"]:
        assert path in schema["paths"], path


def test_docs_pages_open_without_a_login_and_use_local_assets(client):
    # A key holder has no session: the page opens, and its key bar sends the pasted key with the schema
    # request (tests/browser/test_api_docs.py); the page itself holds no data.
    for url in ["/api/docs/", "/api/redoc/"]:
        response = client.get(url)
        page = response.content.decode()
        assert response.status_code == 200 and 'id="nt-key-bar"' in page, url
        assert "/static/drf_spectacular_sidecar/" in page and "/static/newstunneler/docs-key.js" in page, url
        assert "cdn." not in page and "jsdelivr" not in page and "googleapis" not in page, url


def test_schema_documents_the_error_answers(client, viewer):
    client.force_login(viewer)
    paths = yaml.safe_load(client.get("/api/schema/").content)["paths"]
    detail = paths["/api/v1/sources/{id}/"]
    assert set(detail["patch"]["responses"]) == {"200", "400", "401", "403", "404", "413", "429"}
    assert set(paths["/api/v1/jobs/stats"]["get"]["responses"]) == {"200", "401", "403", "429"}
    assert "404" in paths["/api/v1/billing/limits"]["get"]["responses"]  # a user without an account
    quota = detail["get"]["responses"]["429"]["content"]["application/json"]["schema"]["$ref"]
    assert quota.endswith("/ThrottledError")
