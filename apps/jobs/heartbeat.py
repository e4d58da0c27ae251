"""Process heartbeats in the shared cache: workers and schedulers say they are alive every few seconds.

`manage.py healthcheck worker|scheduler` (container health checks) reads them. The jobs issue's
ledger records richer worker rows; these keys stay the cheap liveness signal.
"""

import os
import socket
import threading
import time

import structlog
from django.core.cache import cache

logger = structlog.get_logger(__name__)

INTERVAL = 10
TTL = 3 * INTERVAL


def _key(kind: str, host: str, pid: int) -> str:
    return f"heartbeat:{kind}:{host}:{pid}"


def beat(kind: str, **info) -> None:
    host, pid = socket.gethostname(), os.getpid()
    cache.set(_key(kind, host, pid), {"host": host, "pid": pid, "at": time.time(), **info}, timeout=TTL)


def forget(kind: str) -> None:
    cache.delete(_key(kind, socket.gethostname(), os.getpid()))


def alive(kind: str, host: str | None = None, max_age: float = TTL) -> list[dict]:
    """Heartbeats of `kind` (from `host`, or any) younger than max_age seconds."""
    pattern = _key(kind, host or "*", "*")  # type: ignore[arg-type]
    beats = cache.get_many(cache.keys(pattern)).values()
    now = time.time()
    return [b for b in beats if now - b["at"] <= max_age]


class Beater:
    """A daemon thread that beats every INTERVAL seconds until stopped."""

    def __init__(self, kind: str, interval: float = INTERVAL, on_beat=None, **info):
        self.kind, self.interval, self.info, self.on_beat = kind, interval, info, on_beat
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{kind}-heartbeat", daemon=True)

    def start(self) -> "Beater":
        self._beat()  # alive from the moment start() returns
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        forget(self.kind)

    def _beat(self) -> None:
        try:
            beat(self.kind, **self.info)
            if self.on_beat:
                self.on_beat()
        except Exception:  # a cache or database outage must not kill the process it reports on
            logger.warning("heartbeat_failed", kind=self.kind, exc_info=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._beat()
