"""The worker side of bench/jobs.py and bench/fault_drill.py: `dramatiq bench.jobs_app` loads Django
and declares the bench actors on the broker NT_BENCH_MODE selects:

- raw: a plain RedisBroker with Dramatiq's default middleware (no ledger, no Django writes);
- ledger: the project's broker (django_dramatiq settings: the job ledger, heartbeats ...).

Both use the namespace NT_BROKER_NAMESPACE names (bench/jobs.py gives each run its own).
"""

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newstunneler.settings")

import django  # noqa: E402

django.setup()

import dramatiq  # noqa: E402
from django.conf import settings  # noqa: E402
from dramatiq.brokers.redis import RedisBroker  # noqa: E402

MODE = os.environ.get("NT_BENCH_MODE", "ledger")
NAMESPACE = settings.DRAMATIQ_BROKER["OPTIONS"]["namespace"]

if MODE == "raw":
    broker = RedisBroker(url=settings.REDIS_LOCATION, namespace=NAMESPACE)
    dramatiq.set_broker(broker)
else:
    broker = dramatiq.get_broker()


@dramatiq.actor(queue_name="bench", max_retries=0, broker=broker)
def noop(n: int) -> None:
    pass


@dramatiq.actor(queue_name="drill", max_retries=3, min_backoff=100, max_backoff=1000, broker=broker)
def drill(n: int) -> None:
    """A 0.2 s job that notes each run of n in a file (which survives worker kills and Redis flushes),
    so the fault drill can compare runs with the ledger."""
    time.sleep(0.2)
    with open(os.environ["NT_DRILL_LOG"], "a") as log:
        log.write(f"{n}\n")
