def test_metrics_open_to_loopback(client):
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content


def test_metrics_refused_to_other_addresses(client):
    response = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 403


def test_metrics_with_the_token(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", headers={"Authorization": "Bearer nope"}).status_code == 403
    ok = client.get("/metrics", REMOTE_ADDR="203.0.113.9", headers={"Authorization": "Bearer s3cret-token"})
    assert ok.status_code == 200
