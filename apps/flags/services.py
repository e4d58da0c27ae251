"""Every write of the flags app."""

import waffle
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from apps.flags import checks
from apps.flags.audit import changed_by
from apps.flags.models import FlagChange
from apps.flags.registry import FLAG, FLAGS, FlagSpec


class FlagNotFound(LookupError):
    pass


def spec_for(name: str) -> FlagSpec:
    try:
        return FLAGS[name]
    except KeyError:
        raise FlagNotFound(name) from None


def _model(spec: FlagSpec):
    return waffle.get_waffle_flag_model() if spec.kind == FLAG else waffle.get_waffle_switch_model()


def flag_ensure(spec: FlagSpec):
    """The waffle row for a registered flag, created with its default if missing. A per-user Flag that
    defaults off gets everyone=None, so that its users, groups and percent decide."""
    if spec.kind == FLAG:
        defaults = {"everyone": True if spec.default else None}
    else:
        defaults = {"active": spec.default}
    row, _ = _model(spec).objects.get_or_create(name=spec.name, defaults={**defaults, "note": spec.description})
    return row


@transaction.atomic
def flag_set(*, name: str, enabled: bool, user=None, source: str = "code"):
    """Switch on/off. For a per-user Flag: on = everyone; off = back to targeting (users, groups,
    percent decide; everyone=None)."""
    spec = spec_for(name)
    with changed_by(user, source):
        row = flag_ensure(spec)
        if spec.kind == FLAG:
            row.everyone = True if enabled else None
        else:
            row.active = enabled
        row.save()
    checks.clear_local_cache()
    return row


def flag_toggle(*, name: str, user=None, source: str = "code"):
    return flag_set(name=name, enabled=not checks.is_enabled(name), user=user, source=source)


@transaction.atomic
def flag_rollback(*, change: FlagChange, user=None):
    """Put the flag back in the state it had before `change` (itself an audited change)."""
    spec = spec_for(change.name)
    with changed_by(user, "rollback"):
        row = flag_ensure(spec)
        old = dict(change.old or {})
        users, groups = old.pop("users", None), old.pop("groups", None)  # a change of a Flag's targets
        for field, value in old.items():
            setattr(row, field, value)
        row.save()
        if users is not None:
            row.users.set(get_user_model().objects.filter(username__in=users))
        if groups is not None:
            row.groups.set(Group.objects.filter(name__in=groups))
    checks.clear_local_cache()
    return row
