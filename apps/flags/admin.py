"""Flags in the admin: waffle's Switch and Flag pages (edits audited, env overrides shown) and the
change log with rollback."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from waffle.admin import FlagAdmin as WaffleFlagAdmin
from waffle.admin import SwitchAdmin as WaffleSwitchAdmin
from waffle.models import Flag, Switch

from apps.flags import checks, services
from apps.flags.audit import changed_by
from apps.flags.models import FlagChange, describe_state
from apps.flags.registry import FLAGS
from newstunneler.admin import ReadOnlyAdmin


class AuditedMixin:
    """Saves and waffle's own actions from the admin are recorded with the staff user."""

    def changeform_view(self, request, *args, **kwargs):
        with changed_by(request.user, "admin"):
            return super().changeform_view(request, *args, **kwargs)

    def changelist_view(self, request, *args, **kwargs):
        with changed_by(request.user, "admin"):
            response = super().changelist_view(request, *args, **kwargs)
        checks.clear_local_cache()
        return response

    def delete_view(self, request, *args, **kwargs):
        with changed_by(request.user, "admin"):
            return super().delete_view(request, *args, **kwargs)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        checks.clear_local_cache()

    @admin.display(description="override")
    def override(self, obj):
        forced = checks.override(obj.name)
        return "-" if forced is None else f"NT_FLAG_{obj.name.upper()}={'on' if forced else 'off'} (wins)"

    @admin.display(description="registered", boolean=True)
    def registered(self, obj):
        return obj.name in FLAGS


admin.site.unregister(Switch)
admin.site.unregister(Flag)


@admin.register(Switch)
class SwitchAdmin(AuditedMixin, WaffleSwitchAdmin):
    list_display = [*WaffleSwitchAdmin.list_display, "override", "registered"]


@admin.register(Flag)
class FlagAdmin(AuditedMixin, WaffleFlagAdmin):
    list_display = [*WaffleFlagAdmin.list_display, "override", "registered"]


@admin.register(FlagChange)
class FlagChangeAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    list_display = ["at", "name", "kind", "source", "user", "old_state", "new_state"]
    list_filter = ["source", "kind", "name"]
    search_fields = ["name"]
    readonly_fields = ["at", "name", "kind", "source", "user", "old_state", "new_state"]
    actions = ["roll_back"]

    @admin.display(description="before")
    def old_state(self, obj):
        return describe_state(obj.old)

    @admin.display(description="after")
    def new_state(self, obj):
        return describe_state(obj.new)

    @admin.action(description="Roll back: restore the state before the selected change")
    def roll_back(self, request, queryset):
        """A confirmation page first (what each flag goes back to); the confirmed POST rolls back."""
        changes = list(queryset.order_by("-at", "-id")[:20])
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(request, "admin/flags/confirm_rollback.html", {
                **self.admin_site.each_context(request), "title": f"Roll back {len(changes)} flag change(s)?",
                "opts": self.model._meta, "changes": changes, "more": queryset.count() - len(changes),
                "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across", "0"),
            })
        for change in changes:
            if change.old is None:
                self.message_user(request, f"{change.name}: nothing to restore (the flag was created then).",
                                  messages.WARNING)
                continue
            services.flag_rollback(change=change, user=request.user)
            self.message_user(request, f"{change.name} restored to {describe_state(change.old)}.", messages.SUCCESS)
        return None
