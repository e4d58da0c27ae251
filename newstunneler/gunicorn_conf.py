"""gunicorn settings for the web (`gunicorn -c python:newstunneler.gunicorn_conf ...`): Prometheus
metrics shared by all web workers. Each worker writes its samples under <var>/web-metrics, /metrics
adds them up whichever worker answers, and a worker that exits is marked dead (its gauges drop)."""

import os
import shutil
from pathlib import Path

_var = Path(os.environ.get("NT_VAR_DIR") or Path(__file__).resolve().parent.parent / "var")
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_var / "web-metrics"))


def on_starting(server):
    """Before the workers start: what an earlier run left would be added to this run's counters."""
    directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
