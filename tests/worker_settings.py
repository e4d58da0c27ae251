"""Settings of the worker processes the suite starts (tests/jobs/test_worker_kill.py): the real
settings, on the test database (NT_TEST_DATABASE_NAME), the suite's cache prefix and a broker namespace
of the test's own (NT_TEST_BROKER_NAMESPACE)."""

import os

from newstunneler.settings import *  # noqa: F403
from newstunneler.settings import CACHES, DATABASES, DRAMATIQ_BROKER

DATABASES["default"]["NAME"] = os.environ["NT_TEST_DATABASE_NAME"]
CACHES["default"]["KEY_PREFIX"] = "nt-test"
DRAMATIQ_BROKER["OPTIONS"]["namespace"] = os.environ["NT_TEST_BROKER_NAMESPACE"]
FLAGS_STRICT = True
