from django.apps import AppConfig


class SignalsConfig(AppConfig):
    """Per-ticker signals, digests and alerts."""

    name = "apps.signals"
    label = "signals"
