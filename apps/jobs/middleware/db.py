"""Database connections of worker threads."""

import threading
import time

import dramatiq
from django.db import close_old_connections, connections


class DbConnections(dramatiq.Middleware):
    """Keeps worker threads' database connections healthy without a check per message (django_dramatiq's
    DbConnectionsMiddleware pings the database before and after every message): connections are
    checked at most every CHECK_EVERY seconds per thread, after any failed message, and closed when a
    thread stops."""

    CHECK_EVERY = 30.0

    def __init__(self):
        self._local = threading.local()

    def before_process_message(self, broker, message):
        now = time.monotonic()
        if now - getattr(self._local, "checked", 0.0) > self.CHECK_EVERY:
            close_old_connections()
            self._local.checked = now

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if exception is not None:
            close_old_connections()

    def _close(self, *args, **kwargs):
        connections.close_all()

    before_consumer_thread_shutdown = _close
    before_worker_thread_shutdown = _close
    before_worker_shutdown = _close
