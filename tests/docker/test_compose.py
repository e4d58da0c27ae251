"""No Docker engine runs here, so the compose file is checked against the project instead:
every command it runs must exist, and every long-running service must have a health check."""

import importlib
import re
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker" / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
APP_SERVICES = ["migrate", "web", "ws", "worker", "scheduler"]


def _commands(service):
    command = SERVICES[service]["command"]
    if command[:2] == ["sh", "-c"]:
        return [part.split() for part in command[2].split("&&")]
    return [command]


def _assert_runs_in_project(argv):
    if argv[:2] == ["python", "manage.py"]:
        assert argv[2] in get_commands(), f"manage.py has no command {argv[2]!r}"
    elif argv[0] in ("gunicorn", "uvicorn"):
        module, _, attribute = argv[1].partition(":")
        assert hasattr(importlib.import_module(module), attribute)
    else:
        pytest.fail(f"unexpected command {argv}")


@pytest.mark.parametrize("service", APP_SERVICES)
def test_every_command_exists_in_the_project(service):
    for argv in _commands(service):
        _assert_runs_in_project(argv)


@pytest.mark.parametrize("service", ["postgres", "redis", "web", "ws", "worker", "scheduler"])
def test_long_running_services_have_healthchecks(service):
    test = SERVICES[service]["healthcheck"]["test"]
    assert test[0] == "CMD"
    if test[1:3] == ["python", "manage.py"]:
        assert test[3] in get_commands()


def test_images_and_durability():
    assert SERVICES["postgres"]["image"] == "postgres:16"
    assert SERVICES["redis"]["image"] == "redis:7"
    assert "--appendonly" in SERVICES["redis"]["command"]


def test_worker_command_matches_rundramatiq_options():
    from django_dramatiq.management.commands.rundramatiq import Command

    parser = Command().create_parser("manage.py", "rundramatiq")
    parser.parse_args(SERVICES["worker"]["command"][3:])


def test_dockerfile_runs_as_non_root_and_copies_what_exists():
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    assert re.search(r"^USER nt$", dockerfile, re.M)
    for source in re.findall(r"^COPY (\S+)", dockerfile, re.M):
        assert (ROOT / source).exists(), f"Dockerfile copies {source}, which does not exist"
