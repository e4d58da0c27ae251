"""Admin pieces shared by the apps, and the project's admin site."""

from datetime import timedelta

from django.contrib import admin
from django.urls import path
from django.utils import timezone


class ReadOnlyAdmin:
    """For a ModelAdmin of rows only code writes (audit logs, spend records): listed and shown, never
    added, changed or deleted by hand."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def recent_filter(field: str, *, title: str = "recent", parameter: str = "recent"):
    """A list filter on `field` within the last hour / day / week (`?recent=1h|24h|7d`): what the
    overview's per-hour counts link to."""
    windows = {"1h": ("last hour", timedelta(hours=1)), "24h": ("last 24 hours", timedelta(hours=24)),
               "7d": ("last 7 days", timedelta(days=7))}

    class RecentFilter(admin.SimpleListFilter):
        def lookups(self, request, model_admin):
            return [(key, label) for key, (label, _) in windows.items()]

        def queryset(self, request, queryset):
            if self.value() not in windows:
                return queryset
            return queryset.filter(**{f"{field}__gte": timezone.now() - windows[self.value()][1]})

    RecentFilter.title, RecentFilter.parameter_name = title, parameter
    return RecentFilter


class NewsTunnelerAdminSite(admin.AdminSite):
    """The admin with the operations overview as the index's first section (newstunneler/overview.py),
    refreshed in place every few seconds from `overview/`."""

    site_header = "News Tunneler"
    site_title = "News Tunneler admin"
    index_title = "Operations"

    def get_urls(self):
        from newstunneler import overview

        return [path("overview/", self.admin_view(overview.fragment), name="overview"), *super().get_urls()]

    def index(self, request, extra_context=None):
        from newstunneler import overview

        return super().index(request, {**(extra_context or {}), "overview": overview.build()})
