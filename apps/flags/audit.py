"""Every change to a waffle Switch or Flag, whoever makes it (admin, API, waffle's commands, code),
becomes a FlagChange row. Callers that know who and how say so with `changed_by(...)`; otherwise the
source is "command" inside `manage.py waffle_*` and "code" elsewhere."""

import contextvars
import sys
from contextlib import contextmanager

from django.db.models.signals import post_delete, post_save, pre_save

_context: contextvars.ContextVar[tuple] = contextvars.ContextVar("flag_change_context", default=(None, None))


@contextmanager
def changed_by(user, source: str):
    token = _context.set((user, source))
    try:
        yield
    finally:
        _context.reset(token)


def state(row) -> dict:
    """What matters about a switch or flag, as JSON."""
    if hasattr(row, "active"):
        return {"active": row.active}
    return {"everyone": row.everyone, "percent": None if row.percent is None else float(row.percent),
            "superusers": row.superusers, "staff": row.staff, "authenticated": row.authenticated,
            "testing": row.testing, "rollout": row.rollout}


def _kind(sender) -> str:
    return "switch" if hasattr(sender, "active") or sender.__name__ == "Switch" else "flag"


def _who():
    user, source = _context.get()
    if source is None:
        command = sys.argv[1] if len(sys.argv) > 1 and sys.argv[0].endswith("manage.py") else ""
        source = "command" if command.startswith("waffle_") or command == "sync_flags" else "code"
    return (user if user is not None and getattr(user, "is_authenticated", False) else None), source


def remember_old(sender, instance, **kwargs):
    if instance.pk:
        old = sender.objects.filter(pk=instance.pk).first()
        instance._nt_old_state = state(old) if old else None
    else:
        instance._nt_old_state = None


def record_save(sender, instance, created, raw=False, **kwargs):
    from apps.flags.models import FlagChange

    if raw:
        return
    new = state(instance)
    old = getattr(instance, "_nt_old_state", None)
    if old == new:
        return
    user, source = _who()
    FlagChange.objects.create(name=instance.name, kind=_kind(sender), user=user, source=source, old=old, new=new)


def record_delete(sender, instance, **kwargs):
    from apps.flags.models import FlagChange

    user, source = _who()
    FlagChange.objects.create(name=instance.name, kind=_kind(sender), user=user, source=source,
                              old=state(instance), new=None)


def connect() -> None:
    import waffle

    for model in (waffle.get_waffle_switch_model(), waffle.get_waffle_flag_model()):
        pre_save.connect(remember_old, sender=model, dispatch_uid=f"flags-old-{model.__name__}")
        post_save.connect(record_save, sender=model, dispatch_uid=f"flags-save-{model.__name__}")
        post_delete.connect(record_delete, sender=model, dispatch_uid=f"flags-delete-{model.__name__}")
