from django.contrib import admin

from apps.markets.models import PriceBar
from newstunneler.admin import ReadOnlyAdmin


@admin.register(PriceBar)
class PriceBarAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """Bars come from `import_prices` and the provider: shown, never edited by hand (a correction is a
    new import, which updates the bar)."""

    list_display = ["symbol", "interval", "t", "open", "high", "low", "close", "adj_close", "volume", "source"]
    list_filter = ["interval", "source"]
    search_fields = ["symbol"]
    date_hierarchy = "t"
    show_full_result_count = False  # millions of rows: no COUNT(*) per page
