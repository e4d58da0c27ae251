import threading

import pytest
from django.core.management import CommandError, call_command

from apps.jobs import scheduler


def test_tick_fires_every_source_and_survives_a_broken_one(monkeypatch):
    fired = []

    def broken():
        raise RuntimeError("boom")

    def two_jobs():
        fired.append(1)
        return 2

    monkeypatch.setattr(scheduler, "DUE_WORK", [broken, two_jobs])
    assert scheduler.tick() == 2
    assert fired == [1]


def test_run_forever_stops_when_asked():
    stop = threading.Event()
    stop.set()
    assert scheduler.run_forever(0.01, stop=stop) == 0


def test_command_runs_one_tick():
    call_command("run_scheduler", "--once", "--interval", "0.01")


def test_command_refuses_a_bad_interval():
    with pytest.raises(CommandError, match="--interval must be a positive"):
        call_command("run_scheduler", "--once", "--interval", "0")
