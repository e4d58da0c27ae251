"""`make run` end to end: the stack starts with no services installed, serves, runs a job sent from
another process, and stops cleanly on Ctrl-C."""

import json
import re
import signal
import subprocess
import sys
import time
import uuid

import httpx
import pytest
import redis

from newstunneler import embedded_redis
from tests.processes import MANAGE, ROOT, embedded_env, embedded_redis_cleanup, free_port, manage

pytestmark = pytest.mark.slow


def _wait_for(url: str, timeout: float) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return httpx.get(url, timeout=2)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.25)


def _log_in_to_the_admin(base: str) -> None:
    with httpx.Client(base_url=base, timeout=5) as browser:
        page = browser.get("/admin/login/")
        assert page.status_code == 200 and "News Tunneler" in page.text
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = browser.post(
            "/admin/login/?next=/admin/",
            data={"csrfmiddlewaretoken": csrf, "username": "admin", "password": "stack-test-pass", "next": "/admin/"},
            headers={"Referer": f"{base}/admin/login/"},
            follow_redirects=True,
        )
        assert answer.status_code == 200
        assert "Operations" in answer.text and "Log out" in answer.text
        # The overview of a fresh stack lists every queue of the declared actors, from the real broker
        queues = set(re.findall(r'data-queue="([^"]+)" data-paused="no"', answer.text))
        assert {"feeds", "analysis", "signals", "notify", "maintenance"} <= queues, queues


def _healthz_count(metrics: str) -> float:
    pattern = r'^django_http_requests_total_by_view_transport_method_total\{[^}]*view="healthz"[^}]*\} (\S+)$'
    return sum(float(value) for value in re.findall(pattern, metrics, re.M))


def test_stack_serves_runs_jobs_and_stops_cleanly(tmp_path):
    port, metrics_port, scheduler_port, ws_port = free_port(), free_port(), free_port(), free_port()
    env = embedded_env(
        tmp_path, NT_ADMIN_PASSWORD="stack-test-pass", NT_WORKER_METRICS_PORT=str(metrics_port),
        NT_SCHEDULER_INTERVAL="1", NT_SCHEDULER_METRICS_PORT=str(scheduler_port), NT_LOG_FILE=str(tmp_path / "nt.log"),
        NT_WS_BIND=f"127.0.0.1:{ws_port}",
    )
    with embedded_redis_cleanup(tmp_path):
        manage("migrate", "--noinput", env=env)
        manage("collectstatic", "--noinput", "-v", "0", env=env)
        manage("ensure_admin", env=env)
        stack = subprocess.Popen(
            [sys.executable, MANAGE, "run_stack", "--bind", f"127.0.0.1:{port}"],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            assert _wait_for(f"{base}/healthz", timeout=60).status_code == 200
            ready = httpx.get(f"{base}/readyz", timeout=5)
            assert ready.status_code == 200, ready.text
            _log_in_to_the_admin(base)
            # The ASGI server of the WebSocket stream runs beside gunicorn, and is ready too.
            assert _wait_for(f"http://127.0.0.1:{ws_port}/readyz", timeout=30).status_code == 200
            css = httpx.get(f"{base}/static/admin/css/base.css", timeout=5)
            assert css.status_code == 200 and "text/css" in css.headers["content-type"]

            token = uuid.uuid4().hex
            manage("shell", "-v", "0", "-c", f"from apps.jobs.tasks import ping; ping.send({token!r})", env=env)
            client = redis.Redis(unix_socket_path=str(embedded_redis.socket_path(tmp_path)))
            deadline = time.monotonic() + 30
            while not client.exists(f"nt:1:ping:{token}") and time.monotonic() < deadline:
                time.sleep(0.2)
            assert client.exists(f"nt:1:ping:{token}"), "the worker did not run the job sent from a shell"
            # The worker's log line for that job, in the shared log file, carries the job's identity
            lines = [json.loads(line) for line in (tmp_path / "nt.log").read_text().splitlines()]
            (pinged,) = [line for line in lines if line.get("event") == "ping" and line.get("token") == token]
            assert pinged["actor"] == "ping" and pinged["attempt"] == 1 and len(pinged["job_id"]) == 36
            assert pinged["request_id"] == f"job-{pinged['job_id'][:12]}"  # sent from a shell: no request caused it
            # The workers' exposition server shows Dramatiq's and the ledger's counters for that job.
            deadline, text = time.monotonic() + 15, ""
            while 'newstunneler_job_outcomes_total{actor="ping",outcome="succeeded"}' not in text:
                assert time.monotonic() < deadline, f"worker metrics lack the ping job:\n{text[:2000]}"
                time.sleep(0.3)
                text = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
            assert 'dramatiq_messages_total{actor_name="ping",queue_name="default"}' in text
            # job duration per actor (the histogram the p95 alert and the dashboard read)
            assert 'dramatiq_message_duration_milliseconds_bucket{actor_name="ping"' in text

            # The web's /metrics adds up every gunicorn worker (multiprocess mode), whichever answers.
            for _ in range(20):
                httpx.get(f"{base}/healthz", timeout=5)
            counts = {_healthz_count(httpx.get(f"{base}/metrics", timeout=5).text) for _ in range(4)}
            assert len(counts) == 1 and counts.pop() >= 20, counts
            assert "newstunneler_dead_letters" in httpx.get(f"{base}/metrics", timeout=5).text  # the ledger gauges

            # The scheduler serves its own metrics (for Prometheus in compose)
            scheduler_metrics = httpx.get(f"http://127.0.0.1:{scheduler_port}/metrics", timeout=5).text
            assert re.search(r"^newstunneler_scheduler_ticks_total [1-9]", scheduler_metrics, re.M), scheduler_metrics[:500]
            assert "newstunneler_source_longest_failure_seconds" in scheduler_metrics

            # The deploy gate passes on this stack, and says what failed without a key
            made = manage("create_api_key", "--account", "Canary", "--owner", "admin", "--name", "canary", env=env)
            key = made.stdout.split("key: ")[1].split()[0]
            gate = manage("canary", "--url", base, "--api-key", key, "--json", env=env)
            report = json.loads(gate.stdout)
            assert report["ok"] is True and [c["name"] for c in report["checks"]] == [
                "web /healthz", "web /readyz", "metrics", "database", "broker + worker (ping job)", "queue health",
                "API read with a key"], report
            refused = manage("canary", "--url", base, "--api-key", "nt_wrongkey_" + "x" * 40, env=env, check=False)
            assert refused.returncode == 1
            assert "FAIL  API read with a key" in refused.stdout and "answered 401" in refused.stderr
        finally:
            stack.send_signal(signal.SIGINT)
            output, _ = stack.communicate(timeout=60)
    assert stack.returncode == 0, output
    assert "Stopped." in output
    for name in ("web", "ws", "worker", "scheduler"):
        assert f"{name:<9}| " in output, f"no output from {name}"
    assert not embedded_redis.is_running(tmp_path)
    for stopped in (port, ws_port):  # every child stopped: nothing listens any more
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{stopped}/healthz", timeout=2)
