"""The one answer to "is this flag on?": an environment override (NT_FLAG_<NAME>=on|off) wins, else
the waffle row, read through the shared cache and a 2-second per-process memo (so web and worker
processes agree within seconds), and memoised for the rest of a request.

A memo entry older than 2 s is answered as it is while one background thread per process reads the
row again (stale-while-revalidate; NT_FLAGS_BACKGROUND_REFRESH, on by default): a check never waits
for Redis once the process has read the flag. A change reaches every process within ~2 s plus one
Redis read; only the first check of a flag in a process, or one after clear_local_cache() (every
write through apps.flags.services does it), reads synchronously."""

import queue
import threading
import time

import structlog
from django.conf import settings

from apps.flags.registry import FLAG, FLAGS

logger = structlog.get_logger(__name__)

LOCAL_TTL = 2.0
_local: dict[str, tuple[float, object]] = {}
_lock = threading.Lock()


class UnknownFlag(LookupError):
    pass


def clear_local_cache() -> None:
    with _lock:
        _local.clear()


def _read(kind: str, name: str):
    import waffle

    model = waffle.get_waffle_flag_model() if kind == FLAG else waffle.get_waffle_switch_model()
    return model.get(name)  # waffle's own read-through of the shared cache


def _row(kind: str, name: str):
    """The waffle row (or an unsaved stand-in), memoised in-process for LOCAL_TTL seconds; an older
    memo is answered while the refresher reads it again."""
    key = f"{kind}:{name}"
    now = time.monotonic()
    with _lock:
        hit = _local.get(key)
    if hit:
        if now - hit[0] < LOCAL_TTL:
            return hit[1]
        if settings.FLAGS_BACKGROUND_REFRESH:
            _refresher.ask(key, kind, name)
            return hit[1]
    row = _read(kind, name)
    with _lock:
        _local[key] = (time.monotonic(), row)
    return row


class _Refresher:
    """One daemon thread per process that reads expired flag rows again, each key once at a time."""

    def __init__(self):
        self._pending: set[str] = set()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def ask(self, key: str, kind: str, name: str) -> None:
        with _lock:
            if key in self._pending:
                return
            self._pending.add(key)
            if self._thread is None or not self._thread.is_alive():  # (not inherited across fork)
                self._thread = threading.Thread(target=self._run, name="flag-refresher", daemon=True)
                self._thread.start()
        self._queue.put((key, kind, name))

    def _run(self) -> None:
        from django.db import connection

        while True:
            key, kind, name = self._queue.get()
            try:
                row = _read(kind, name)
                with _lock:
                    if key in _local:  # (cleared meanwhile: the next check reads it itself)
                        _local[key] = (time.monotonic(), row)
            except Exception as exc:  # keep answering the last known state; try again at the next check
                logger.warning("flag_refresh_failed", flag=name, error=f"{type(exc).__name__}: {exc}")
            finally:
                with _lock:
                    self._pending.discard(key)
                if self._queue.empty():
                    connection.close()  # this thread's own connection, if the cache sent it to the database

    def wait_idle(self, timeout: float = 5.0) -> None:
        """For tests and benches: until every asked refresh is done."""
        deadline = time.monotonic() + timeout
        while self._pending and time.monotonic() < deadline:
            time.sleep(0.005)


_refresher = _Refresher()


def _flag_answer(row, name: str, request, user) -> bool:
    """A per-user Flag's answer. Unless percent, testing or language targeting make it depend on the
    request, it depends on the user only: remember it per user for LOCAL_TTL seconds, since waffle
    reads the flag's user and group lists from the cache on every check."""
    if request is None and user is None:
        return bool(row.everyone)
    if request is not None and (row.percent or row.testing or row.languages):
        return bool(row.is_active(request))
    who = user if user is not None else getattr(request, "user", None)
    key = f"answer:{name}:{getattr(who, 'pk', None)}"
    now = time.monotonic()
    with _lock:
        hit = _local.get(key)
        if hit and now - hit[0] < LOCAL_TTL:
            return hit[1]
    answer = bool(row.is_active(request)) if request is not None else bool(row.is_active_for_user(user))
    with _lock:
        if len(_local) > 10_000:  # many distinct users: start over rather than grow without bound
            _local.clear()
        _local[key] = (now, answer)
    return answer


def override(name: str) -> bool | None:
    return settings.FLAG_OVERRIDES.get(name)


def is_enabled(name: str, request=None, user=None) -> bool:
    spec = FLAGS.get(name)
    if spec is None:
        if settings.FLAGS_STRICT:
            raise UnknownFlag(f"no flag named {name!r} in apps/flags/registry.py")
        logger.error("unknown_flag", flag=name)
        return False
    forced = override(name)
    if forced is not None:
        return forced
    memo = getattr(request, "_nt_flags", None) if request is not None else None
    if memo is not None and name in memo:
        return memo[name]
    row = _row(spec.kind, name)
    if not row.pk:
        answer = spec.default
    elif spec.kind == FLAG:
        answer = _flag_answer(row, name, request, user)
    else:
        answer = bool(row.active)
    if request is not None:
        if memo is None:
            memo = {}
            try:
                request._nt_flags = memo
            except AttributeError:
                return answer
        memo[name] = answer
    return answer
