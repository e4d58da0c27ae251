from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.jobs.enqueue import enqueue
from apps.signals import backtest, charts
from apps.signals.models import (
    DigestRun,
    DigestSubscription,
    EventType,
    PredictionModel,
    Signal,
    SignalOutcome,
    WebhookDelivery,
    WebhookEndpoint,
)
from newstunneler.admin import ReadOnlyAdmin, recent_filter


class SignalOutcomeInline(ReadOnlyAdmin, admin.TabularInline):
    model = SignalOutcome
    fields = ["horizon", "status", "entry_t", "exit_t", "ret", "benchmark_ret", "excess_ret", "excess_sigma",
              "direction_right", "mae", "note"]
    readonly_fields = fields
    extra = 0
    ordering = ["horizon"]


@admin.register(Signal)
class SignalAdmin(admin.ModelAdmin):
    list_display = ["symbol", "t", "score_column", "label", "stance", "article_link"]
    list_filter = ["label", "stance", recent_filter("created_at", title="created", parameter="created")]
    search_fields = ["symbol", "article__title"]
    list_select_related = ["article"]
    date_hierarchy = "t"
    raw_id_fields = ["article"]
    readonly_fields = ["symbol", "t", "score", "label", "stance", "reasons", "features", "article", "predicted_up",
                       "model_version", "expected_move", "created_at", "updated_at"]
    inlines = [SignalOutcomeInline]

    def has_add_permission(self, request):
        return False  # signals are built from analyses

    @admin.display(description="score", ordering="score")
    def score_column(self, obj):
        return f"{obj.score:.1f}"

    @admin.display(description="article")
    def article_link(self, obj):
        if obj.article is None:
            return "-"
        url = reverse("admin:articles_article_change", args=[obj.article_id])
        return format_html('<a href="{}">{}</a>', url, obj.article.title[:80])


class ConfirmedFilter(admin.SimpleListFilter):
    title = "confirmed"
    parameter_name = "confirmed"

    def lookups(self, request, model_admin):
        return [("yes", "Yes"), ("no", "No: nothing is sent")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(confirmed_at__isnull=self.value() == "no")
        return queryset


@admin.register(DigestSubscription)
class DigestSubscriptionAdmin(admin.ModelAdmin):
    """Staff-made subscriptions are confirmed by the staff member who makes them; a user's to another
    address waits for its recipient (or for staff to confirm it here)."""

    list_display = ["__str__", "user", "email", "frequency", "min_score", "active", "confirmed", "unsubscribed_at",
                    "created_at"]
    list_filter = ["frequency", "active", ConfirmedFilter]
    search_fields = ["email", "user__username", "user__email"]
    raw_id_fields = ["user"]
    list_select_related = ["user"]
    readonly_fields = ["created_at", "unsubscribed_at", "confirmed_at"]
    actions = ["mark_confirmed", "send_confirmation_again"]

    @admin.display(boolean=True, ordering="confirmed_at")
    def confirmed(self, obj):
        return obj.is_confirmed

    def save_model(self, request, obj, form, change):
        if obj.confirmed_at is None and (not change or "email" in form.changed_data or "user" in form.changed_data):
            obj.confirmed_at = timezone.now()  # staff vouch for the address they typed
        super().save_model(request, obj, form, change)

    @admin.action(description="Mark confirmed (you vouch for the address)")
    def mark_confirmed(self, request, queryset):
        count = queryset.filter(confirmed_at__isnull=True).update(confirmed_at=timezone.now())
        self.message_user(request, f"{count} subscription(s) marked confirmed.", messages.SUCCESS)

    @admin.action(description="Send the confirmation email again (unconfirmed ones)")
    def send_confirmation_again(self, request, queryset):
        pending = list(queryset.filter(confirmed_at__isnull=True, active=True).values_list("pk", flat=True))
        for pk in pending:
            enqueue("send_subscription_confirmation", pk)
        self.message_user(request, f"Confirmation email queued for {len(pending)} subscription(s).", messages.SUCCESS)


@admin.register(DigestRun)
class DigestRunAdmin(admin.ModelAdmin):
    list_display = ["kind", "period", "recipient", "status", "signal_count", "sent_at", "error_short"]
    list_filter = ["kind", "status"]
    search_fields = ["recipient", "period"]
    readonly_fields = ["kind", "period", "recipient", "subscription", "status", "signal_count", "error", "created_at",
                       "claimed_at", "sent_at"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="error")
    def error_short(self, obj):
        return obj.error[:80]


class WebhookDeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ["created_at", "event_type", "event_id", "attempt", "status_code", "ok", "error", "duration_ms"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).order_by("-created_at")


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https", help_text=WebhookEndpoint._meta.get_field("url").help_text)
    event_types = forms.MultipleChoiceField(choices=EventType.choices, widget=forms.CheckboxSelectMultiple,
                                            help_text="The events this endpoint gets.")

    class Meta:
        model = WebhookEndpoint
        fields = ["name", "url", "secret", "event_types", "enabled"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "event_types", "enabled", "failing_since", "last_success_at", "disabled_reason"]
    list_filter = ["enabled"]
    search_fields = ["name", "url"]
    readonly_fields = ["failing_since", "last_success_at", "disabled_reason", "created_at"]
    inlines = [WebhookDeliveryInline]
    actions = ["enable", "send_test_event"]

    form = WebhookEndpointForm

    @admin.action(description="Enable again (clears the failure state)")
    def enable(self, request, queryset):
        count = queryset.update(enabled=True, failing_since=None, disabled_reason="")
        self.message_user(request, f"Enabled {count} endpoint(s).", messages.SUCCESS)

    @admin.action(description="Send a test event (webhook.test) now")
    def send_test_event(self, request, queryset):
        from apps.signals.notify import new_event

        for endpoint in queryset:
            enqueue("deliver_webhook", endpoint.pk, new_event("webhook.test", {}))
        self.message_user(request, f"Queued a test event to {queryset.count()} endpoint(s); see their delivery log.",
                          messages.SUCCESS)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["created_at", "endpoint", "event_type", "attempt", "status_code", "ok", "error_short", "duration_ms"]
    list_filter = ["ok", "event_type", "endpoint"]
    search_fields = ["event_id", "error"]
    list_select_related = ["endpoint"]
    readonly_fields = ["endpoint", "event_type", "event_id", "attempt", "status_code", "ok", "error", "duration_ms",
                       "created_at"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="error")
    def error_short(self, obj):
        return obj.error[:80]


@admin.register(SignalOutcome)
class SignalOutcomeAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """What the market did after each signal (computed by `compute_outcomes` / `backfill_outcomes`)."""

    list_display = ["signal", "horizon", "status", "entry_t", "ret", "benchmark_ret", "excess_ret", "excess_sigma",
                    "direction_right", "mae"]
    list_filter = ["horizon", "status", "direction_right", "signal__label", "signal__stance"]
    search_fields = ["signal__symbol"]
    list_select_related = ["signal"]
    date_hierarchy = "entry_t"
    show_full_result_count = False

    def get_urls(self):
        return [path("performance/", self.admin_site.admin_view(self.performance), name="signals_performance"),
                *super().get_urls()]

    def performance(self, request):
        """The backtest report with its charts: cumulative excess return per label, hit rate by decile."""
        if not request.user.has_perm("signals.view_signaloutcome"):
            raise PermissionDenied
        params = request.GET.copy()
        params.setdefault("horizon", "5")  # a link with only dates still gets the default horizon
        form = PerformanceForm(params)
        report = None
        if form.is_valid():
            report = backtest.backtest(horizon=int(form.cleaned_data["horizon"]),
                                       since=backtest.start_of_day(form.cleaned_data.get("since")),
                                       until=backtest.start_of_day(form.cleaned_data.get("until")))
        context = {**self.admin_site.each_context(request), "title": "Signal performance", "opts": self.model._meta,
                   "form": form, "report": report}
        if report is not None:
            context.update(
                cumulative_chart=charts.cumulative_excess(report.cumulative),
                decile_chart=charts.hit_rate_by_decile(report.breakdowns["score_decile"]),
                breakdowns=[(name.replace("_", " "), [_shown(group) for group in groups])
                            for name, groups in report.breakdowns.items()],
                min_sample=backtest.MIN_SAMPLE)
        return TemplateResponse(request, "admin/signals/performance.html", context)


def _shown(group: backtest.Group) -> dict:
    """A report group's figures as the page shows them (percentages, '-' for none)."""
    def pct(value):
        return "-" if value is None else f"{value:+.2%}"

    hit = "-" if group.hit_rate is None else (
        f"{group.hit_rate:.1%} ({group.hit_rate_low:.1%}-{group.hit_rate_high:.1%})")
    return {"key": group.key, "count": group.count, "directional": group.directional, "hit": hit,
            "mean": pct(group.mean_excess), "median": pct(group.median_excess),
            "ic": "-" if group.ic is None else f"{group.ic:+.2f}", "note": group.note}


class PerformanceForm(forms.Form):
    horizon = forms.ChoiceField(choices=[(str(h), f"+{h} sessions") for h in SignalOutcome.HORIZONS], initial="5")
    since = forms.DateField(required=False, help_text="YYYY-MM-DD (UTC)", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, help_text="YYYY-MM-DD (UTC), not included",
                            widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise forms.ValidationError("'until' must be after 'since'.")
        return data


@admin.register(PredictionModel)
class PredictionModelAdmin(admin.ModelAdmin):
    """Models `train_signal_model` stored. Only the active one predicts (ml_predictions); staff may make
    another one active, e.g. to roll back."""

    list_display = ["version", "kind", "samples", "trained_until", "auc", "baseline_auc", "active", "created_at"]
    list_filter = ["kind", "active"]
    exclude = ["blob"]
    readonly_fields = ["version", "kind", "horizon", "features", "samples", "trained_until", "metrics", "active",
                       "created_at"]
    actions = ["make_active"]

    def has_add_permission(self, request):
        return False  # made by train_signal_model

    @admin.display(description="AUC (walk-forward)")
    def auc(self, obj):
        return _auc(obj.metrics.get("candidates", []), obj.kind)

    @admin.display(description="baseline AUC")
    def baseline_auc(self, obj):
        baseline = obj.metrics.get("baseline") or {}
        return "-" if baseline.get("auc") is None else f"{baseline['auc']:.3f}"

    @admin.action(description="Make the selected model the active one", permissions=["change"])
    def make_active(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one model to make active.", messages.ERROR)
            return
        chosen = queryset.get()
        PredictionModel.objects.exclude(pk=chosen.pk).filter(active=True).update(active=False)
        PredictionModel.objects.filter(pk=chosen.pk).update(active=True)
        self.log_change(request, chosen, f"made active (was {'active' if chosen.active else 'inactive'})")
        self.message_user(request, f"{chosen.version} is now the active model.", messages.SUCCESS)


def _auc(candidates: list[dict], kind: str) -> str:
    for candidate in candidates:
        if candidate.get("kind") == kind and candidate.get("auc") is not None:
            return f"{candidate['auc']:.3f}"
    return "-"
