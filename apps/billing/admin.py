from django.contrib import admin, messages
from django.db.models import Count, Sum
from django.utils.html import format_html, format_html_join

from apps.billing import selectors, services
from apps.billing.models import Account, ApiKey, Plan, UsageRecord


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "requests_per_minute", "requests_per_day", "analyses_per_month", "llm_budget", "features"]

    @admin.display(description="LLM budget per month", ordering="llm_budget_usd")
    def llm_budget(self, obj):
        if obj.llm_budget_usd is None:
            return "no cap"
        return "no LLM" if obj.llm_budget_usd == 0 else f"${obj.llm_budget_usd}"


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    fields = ["name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # keys are created on the API keys page, which shows them once


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "plan", "active", "created_at"]
    list_filter = ["plan", "active"]
    search_fields = ["name", "owner__username", "owner__email"]
    autocomplete_fields = ["owner"]  # type a username or email, not a numeric id
    list_select_related = ["owner", "plan"]
    readonly_fields = ["this_month"]
    inlines = [ApiKeyInline]

    @admin.display(description="Usage now (this minute, today, this month)")
    def this_month(self, obj):
        if obj.pk is None:
            return "-"
        limits = selectors.limits(account=obj)
        rows = [(name.replace("_", " "), limits[name]["used"], limits[name]["limit"], limits[name]["remaining"])
                for name in ("requests_per_minute", "requests_per_day", "analyses_per_month",
                             "llm_budget_usd_per_month")]
        return format_html(
            "<table><tr><th>limit</th><th>used</th><th>of</th><th>remaining</th></tr>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows))


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "account", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["account__plan"]
    search_fields = ["name", "prefix", "account__name"]
    list_select_related = ["account"]
    raw_id_fields = ["account"]
    actions = ["revoke"]

    def get_fields(self, request, obj=None):
        return ["account", "name", "expires_at"] if obj is None else [
            "account", "name", "prefix", "created_at", "last_used_at", "expires_at", "revoked_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["account", "prefix", "created_at", "last_used_at", "revoked_at"]

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        row, key = services.api_key_create(account=obj.account, name=obj.name, expires_at=obj.expires_at)
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = row.pk, row.prefix, row.key_hash, row.created_at
        obj._state.adding = False
        self.message_user(request, f"API key created. Copy it now, it will not be shown again: {key}",
                          messages.WARNING)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the row stays for the record

    @admin.action(description="Revoke selected keys (they stop working at once)")
    def revoke(self, request, queryset):
        for key in queryset:
            services.api_key_revoke(key=key)
        self.message_user(request, f"Revoked {queryset.count()} key(s).", messages.SUCCESS)


@admin.register(UsageRecord)
class UsageRecordAdmin(admin.ModelAdmin):
    list_display = ["day", "account", "metric", "quantity"]
    list_filter = ["metric", "day", "account__plan", "account"]
    search_fields = ["account__name"]
    date_hierarchy = "day"
    list_select_related = ["account"]
    readonly_fields = ["account", "day", "metric", "quantity"]

    def has_add_permission(self, request):
        return False

    def changelist_view(self, request, extra_context=None):
        """Above the list: each metric's total over the rows the filters select (not just this page)."""
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        if changelist is not None:
            response.context_data["usage_totals"] = (
                changelist.queryset.order_by().values("metric")
                .annotate(total=Sum("quantity"), accounts=Count("account", distinct=True), days=Count("day", distinct=True))
                .order_by("metric"))
        return response
