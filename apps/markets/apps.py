from django.apps import AppConfig


class MarketsConfig(AppConfig):
    """Prices and the exchange calendar. Imports no domain app: signals use markets, never the reverse."""

    name = "apps.markets"
    default_auto_field = "django.db.models.BigAutoField"
