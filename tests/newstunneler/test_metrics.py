import ipaddress


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


def test_behind_a_proxy_without_x_forwarded_for_no_caller_looks_local(client, settings):
    # Seen: a request from the (loopback) proxy without X-Forwarded-For counted as a loopback caller,
    # so behind a proxy that does not send it, everyone could read /metrics.
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("127.0.0.1/32")]
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    # a client that forges a loopback entry is still the address the proxy saw
    forged = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1, 203.0.113.9")
    assert forged.status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 200


def test_an_untrusted_hop_cannot_claim_to_be_loopback(client):
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 403


def test_with_a_token_set_even_loopback_needs_it(client, settings):
    settings.METRICS_TOKEN = "s3cret-token"
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1", headers={"Authorization": "Bearer s3cret-token"}).status_code == 200


def test_trusted_proxies_are_parsed_strictly(monkeypatch):
    import pytest
    from django.core.exceptions import ImproperlyConfigured

    from newstunneler.env import env_networks

    monkeypatch.setenv("NT_TRUSTED_PROXIES", "10.0.0.0/8, ::1 ,192.168.1.7")
    assert [str(n) for n in env_networks("NT_TRUSTED_PROXIES")] == ["10.0.0.0/8", "::1/128", "192.168.1.7/32"]
    monkeypatch.setenv("NT_TRUSTED_PROXIES", "10.0.0.0/8,proxy.local")
    with pytest.raises(ImproperlyConfigured, match="NT_TRUSTED_PROXIES: 'proxy.local' is not an IP address"):
        env_networks("NT_TRUSTED_PROXIES")
