"""Feature flags: `flags.is_enabled(name, request=None, user=None)` answers everywhere."""


def is_enabled(name: str, request=None, user=None) -> bool:
    from apps.flags.checks import is_enabled as check

    return check(name, request=request, user=user)
