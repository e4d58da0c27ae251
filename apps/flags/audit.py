"""Every change to a waffle Switch or Flag, whoever makes it (admin, API, waffle's commands, code),
becomes a FlagChange row. Callers that know who and how say so with `changed_by(...)`; otherwise the
source is "command" inside `manage.py waffle_*` and "code" elsewhere."""

import contextvars
import sys
from contextlib import contextmanager
from functools import partial

from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

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


def targets(flag) -> dict:
    """Who a per-user Flag names: its users and groups (by name), as JSON."""
    return {"users": sorted(flag.users.values_list("username", flat=True)),
            "groups": sorted(flag.groups.values_list("name", flat=True))}


def _flags_touched(instance, reverse: bool, pk_set, relation: str) -> list:
    """The Flags an m2m change is about: the instance itself, or (changed from the user's or group's
    side) the flags named by pk_set, or all linked to it for a clear."""
    import waffle

    if not reverse:
        return [instance]
    flags = waffle.get_waffle_flag_model().objects.all()
    return list(flags.filter(pk__in=pk_set) if pk_set else flags.filter(**{relation: instance}))


def record_targets(sender, instance, action, reverse, pk_set, relation: str, **kwargs):
    """Adding or removing a Flag's users or groups (the admin's widgets, code, either side of the
    relation) is a FlagChange too: old and new are {"users": [...], "groups": [...]}."""
    import waffle

    from apps.flags.models import FlagChange

    if action.startswith("pre_"):
        instance._nt_old_targets = {flag.pk: targets(flag) for flag in
                                    _flags_touched(instance, reverse, pk_set, relation)}
        return
    before = getattr(instance, "_nt_old_targets", {})
    flags = [instance] if not reverse else list(waffle.get_waffle_flag_model().objects.filter(pk__in=before))
    user, source = _who()
    for flag in flags:
        old, new = before.get(flag.pk), targets(flag)
        if old != new:
            FlagChange.objects.create(name=flag.name, kind="flag", user=user, source=source, old=old, new=new)


def connect() -> None:
    import waffle

    for model in (waffle.get_waffle_switch_model(), waffle.get_waffle_flag_model()):
        pre_save.connect(remember_old, sender=model, dispatch_uid=f"flags-old-{model.__name__}")
        post_save.connect(record_save, sender=model, dispatch_uid=f"flags-save-{model.__name__}")
        post_delete.connect(record_delete, sender=model, dispatch_uid=f"flags-delete-{model.__name__}")
    flag_model = waffle.get_waffle_flag_model()
    for relation in ("users", "groups"):
        m2m_changed.connect(partial(record_targets, relation=relation), sender=getattr(flag_model, relation).through,
                            dispatch_uid=f"flags-targets-{relation}", weak=False)
