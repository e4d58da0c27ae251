import json
import logging

import pytest

from tests.processes import embedded_env, embedded_redis_cleanup, manage


def _request_records(caplog):
    return [r.msg for r in caplog.records if r.name == "newstunneler.request" and isinstance(r.msg, dict)]


def test_request_id_is_created_and_echoed(client):
    response = client.get("/healthz")
    assert len(response["X-Request-ID"]) == 32


def test_incoming_request_id_is_kept(client):
    response = client.get("/healthz", headers={"X-Request-ID": "edge-abc-123"})
    assert response["X-Request-ID"] == "edge-abc-123"


def test_malformed_request_id_is_replaced(client):
    response = client.get("/healthz", headers={"X-Request-ID": "<script>alert(1)</script>"})
    assert response["X-Request-ID"] != "<script>alert(1)</script>"
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_log_lines_of_a_request_carry_its_id_and_user(client, admin_user, caplog):
    client.force_login(admin_user)
    with caplog.at_level(logging.INFO, logger="newstunneler.request"):
        client.get("/readyz", headers={"X-Request-ID": "req-42"})
    (line,) = _request_records(caplog)
    assert line["request_id"] == "req-42"
    assert line["user_id"] == admin_user.pk
    assert line["status"] == 200 and line["path"] == "/readyz"


def test_json_log_format_writes_one_json_object_per_line(tmp_path):
    env = embedded_env(tmp_path, NT_LOG_FORMAT="json")
    emit = "import structlog; structlog.get_logger('nt.test').info('hello', source_id=7)"
    with embedded_redis_cleanup(tmp_path):
        result = manage("shell", "-v", "0", "-c", emit, env=env)
    lines = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    (hello,) = [line for line in lines if line["event"] == "hello"]
    assert hello["source_id"] == 7 and hello["level"] == "info" and hello["logger"] == "nt.test"
