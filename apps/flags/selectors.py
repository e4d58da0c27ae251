"""Reads of the flags app."""

from apps.flags import checks
from apps.flags.models import FlagChange
from apps.flags.registry import FLAGS


def flag_states(*, request=None) -> list[dict]:
    latest = {}
    for change in FlagChange.objects.filter(name__in=FLAGS).select_related("user").order_by("name", "-at", "-id"):
        latest.setdefault(change.name, change)
    return [flag_state(spec.name, request=request, change=latest.get(spec.name)) for spec in FLAGS.values()]


def flag_state(name: str, *, request=None, change: FlagChange | None = None) -> dict:
    spec = FLAGS[name]
    if change is None:
        change = FlagChange.objects.filter(name=name).select_related("user").order_by("-at", "-id").first()
    return {
        "name": name, "kind": spec.kind, "description": spec.description, "gates": spec.gates,
        "enabled": checks.is_enabled(name, request=request), "override": checks.override(name),
        "last_change": None if change is None else {
            "at": change.at.isoformat(), "user": change.user.username if change.user else None,
            "source": change.source, "old": change.old, "new": change.new},
    }
