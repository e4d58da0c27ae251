"""API roles as groups with permissions: viewers read; analysts also manage sources, ask for analyses,
read the backtest report and the scoring policy; admins also hold the permission to change the scoring
policy (the API lets staff users only use it). The jobs and flags APIs are for staff users."""

from django.contrib.auth.models import Group, Permission

VIEWER = ["articles.view_article", "articles.view_source", "signals.view_signal", "articles.view_insidertransaction"]
ANALYST = VIEWER + ["articles.add_source", "articles.change_source", "articles.delete_source",
                    "articles.request_analysis", "signals.view_signaloutcome", "articles.view_scoringpolicy"]
ADMIN = ANALYST + ["articles.change_scoringpolicy"]
ROLES = {"viewer": VIEWER, "analyst": ANALYST, "admin": ADMIN}


def ensure_roles() -> dict[str, Group]:
    """Create the role groups with exactly their permissions (idempotent; run after every migrate)."""
    groups = {}
    for role, names in ROLES.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for name in names:
            app_label, codename = name.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
        groups[role] = group
    return groups
