"""A worker module for tests that kill workers: `python -m dramatiq tests.jobs.killable` runs Django with
tests/worker_settings.py and declares `killable_sleep`, which notes each start and end of a run in the
file NT_TEST_RUN_LOG (it survives the kill)."""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.worker_settings")

import django  # noqa: E402

django.setup()

import dramatiq  # noqa: E402

QUEUE = "killable"


@dramatiq.actor(queue_name=QUEUE, max_retries=3)
def killable_sleep(n: int, seconds: float) -> None:
    with open(os.environ["NT_TEST_RUN_LOG"], "a") as log:
        log.write(f"start {n}\n")
    time.sleep(seconds)
    with open(os.environ["NT_TEST_RUN_LOG"], "a") as log:
        log.write(f"done {n}\n")

