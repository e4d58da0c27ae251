"""Prometheus and Grafana as compose runs them: the config and the alert rules pass promtool (config check
and the rules' unit tests), every rule is tested, the dashboard loads and every panel's query parses, and
every metric they name is one the project exports. promtool comes from the OS prometheus package; where
it is missing these skip, unless NT_PROMTOOL=required (.ci/run installs it and sets that)."""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS, GRAFANA = ROOT / "docker" / "prometheus", ROOT / "docker" / "grafana"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(
    not PROMTOOL and os.environ.get("NT_PROMTOOL") != "required",
    reason="promtool is not installed (apt-get install prometheus)")


def promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess:
    assert PROMTOOL, "NT_PROMTOOL=required but promtool is not installed"
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def dashboard_queries() -> list[tuple[str, str]]:
    dashboard = json.loads((GRAFANA / "dashboards" / "newstunneler.json").read_text())
    return [(panel["title"], target["expr"]) for panel in dashboard["panels"] for target in panel["targets"]]


@needs_promtool
def test_the_prometheus_config_is_valid(tmp_path):
    # The config reads the web's token from a compose secret; here from a file of the same content.
    (tmp_path / "metrics_token").write_text("token\n")
    config = (PROMETHEUS / "prometheus.yml").read_text().replace("/run/secrets/metrics_token",
                                                                 str(tmp_path / "metrics_token"))
    (tmp_path / "prometheus.yml").write_text(config)
    shutil.copy(PROMETHEUS / "alerts.yml", tmp_path / "alerts.yml")
    checked = promtool("check", "config", "prometheus.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 1 rule files found" in checked.stdout


@needs_promtool
def test_the_alert_rules_pass_their_unit_tests():
    tested = promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_rule_has_a_unit_test_that_fires_it():
    rules = {rule["alert"] for group in yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
             for rule in group["rules"]}
    assert rules == {"DeadLettersPiling", "ErrorRateHigh", "OldestQueuedJobTooOld", "SourceFailingFor6h", "JobsSlow",
                     "LLMSpendHigh"}
    fired = {case["alertname"] for test in yaml.safe_load((PROMETHEUS / "alerts_test.yml").read_text())["tests"]
             for case in test["alert_rule_test"] if case["exp_alerts"]}
    assert fired == rules


@needs_promtool
def test_the_dashboard_loads_and_every_panel_query_parses(tmp_path):
    queries = dashboard_queries()
    assert len(queries) >= 10
    titles = " ".join(title for title, _ in queries).lower()
    for topic in ("queue health", "dead letters", "job run time", "feed errors", "llm cost per day", "signals per hour",
                  "http latency"):
        assert topic in titles, topic
    # promtool parses each query as the expression of a recording rule: a bad query fails the check.
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": f"panel:query_{n}", "expr": expr}
                                                       for n, (_, expr) in enumerate(queries)]}]}
    (tmp_path / "dashboard_rules.yml").write_text(yaml.safe_dump(rules))
    checked = promtool("check", "rules", "dashboard_rules.yml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_rules_and_dashboard_name_only_metrics_the_project_exports():
    exported = set()
    for path in [*ROOT.glob("newstunneler/*.py"), *ROOT.glob("apps/**/*.py")]:
        exported.update(re.findall(r'"(newstunneler_[a-z_]+)"', path.read_text()))
    texts = [(PROMETHEUS / "alerts.yml").read_text(), *(expr for _, expr in dashboard_queries())]
    named = {name for text in texts for name in re.findall(r"\b(newstunneler_[a-z_]+?)(?:_bucket|_count|_sum)?\b", text)}
    assert named and named <= exported, named - exported


def test_compose_runs_prometheus_and_grafana_with_what_they_need():
    compose = yaml.safe_load((ROOT / "docker" / "docker-compose.yml").read_text())
    services = compose["services"]
    assert "./prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro" in services["prometheus"]["volumes"]
    assert services["prometheus"]["secrets"] == ["metrics_token"]
    assert compose["secrets"]["metrics_token"] == {"environment": "NT_METRICS_TOKEN"}
    assert "./grafana/provisioning:/etc/grafana/provisioning:ro" in services["grafana"]["volumes"]
    # what Prometheus scrapes is what the processes serve
    config = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
    ports = {job["job_name"]: job["dns_sd_configs"][0]["port"] for job in config["scrape_configs"]}
    assert ports == {"web": 8000, "worker": 9191, "scheduler": 9192}
    assert services["worker"]["environment"]["NT_WORKER_METRICS_HOST"] == "0.0.0.0"
    assert services["scheduler"]["environment"]["NT_SCHEDULER_METRICS_PORT"] == "9192"
    datasource = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
