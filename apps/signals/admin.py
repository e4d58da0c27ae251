from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from apps.signals.models import Signal


@admin.register(Signal)
class SignalAdmin(admin.ModelAdmin):
    list_display = ["symbol", "t", "score_column", "label", "stance", "article_link"]
    list_filter = ["label", "stance"]
    search_fields = ["symbol", "article__title"]
    list_select_related = ["article"]
    date_hierarchy = "t"
    raw_id_fields = ["article"]
    readonly_fields = ["symbol", "t", "score", "label", "stance", "reasons", "features", "article", "created_at",
                       "updated_at"]

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
