import pytest
from django.core.management import CommandError, call_command

from apps.jobs.middleware import heartbeat


def test_worker_without_heartbeat_is_unhealthy():
    with pytest.raises(CommandError, match="worker: no heartbeat"):
        call_command("healthcheck", "worker")


@pytest.mark.django_db(transaction=True)
def test_running_worker_is_healthy_and_gone_after_stop(broker, worker, capsys):
    call_command("healthcheck", "worker")
    assert "worker: 1 alive" in capsys.readouterr().out
    (beat,) = heartbeat.alive("worker")
    assert "default" in beat["queues"]
    worker.stop()
    with pytest.raises(CommandError):
        call_command("healthcheck", "worker")


def test_scheduler_beats_while_it_runs():
    from apps.jobs import scheduler

    seen = []
    scheduler.DUE_WORK.append(lambda: seen.append(heartbeat.alive("scheduler")) or 0)
    try:
        scheduler.run_forever(0.01, max_ticks=1)
    finally:
        scheduler.DUE_WORK.pop()
    assert len(seen[0]) == 1
    assert heartbeat.alive("scheduler") == []


def test_web_healthcheck_reports_an_unreachable_server():
    with pytest.raises(CommandError, match="unreachable"):
        call_command("healthcheck", "web", "--url", "http://127.0.0.1:1/readyz")


def test_web_healthcheck_asks_the_address_nt_bind_names(monkeypatch, capsys):
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen = []

    class Ready(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("NT_BIND", f"0.0.0.0:{server.server_address[1]}")  # a wildcard bind is reached on loopback
        call_command("healthcheck", "web")
    finally:
        server.shutdown()
    assert seen == ["/readyz"] and "web: ready" in capsys.readouterr().out
    monkeypatch.setenv("NT_BIND", "127.0.0.1:1")
    with pytest.raises(CommandError, match=r"http://127\.0\.0\.1:1/readyz unreachable"):
        call_command("healthcheck", "web")
