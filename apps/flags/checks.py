"""The one answer to "is this flag on?": an environment override (NT_FLAG_<NAME>=on|off) wins, else
the waffle row, read through the shared cache and a 2-second per-process memo (so web and worker
processes agree within seconds), and memoised for the rest of a request."""

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


def _row(kind: str, name: str):
    """The waffle row (or an unsaved stand-in), memoised in-process for LOCAL_TTL seconds."""
    import waffle

    key = f"{kind}:{name}"
    now = time.monotonic()
    with _lock:
        hit = _local.get(key)
        if hit and now - hit[0] < LOCAL_TTL:
            return hit[1]
    model = waffle.get_waffle_flag_model() if kind == FLAG else waffle.get_waffle_switch_model()
    row = model.get(name)  # waffle's own read-through of the shared cache
    with _lock:
        _local[key] = (now, row)
    return row


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
        if request is not None:
            answer = bool(row.is_active(request))
        else:
            answer = bool(row.is_active_for_user(user)) if user is not None else bool(row.everyone)
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
