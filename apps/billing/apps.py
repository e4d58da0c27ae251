from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Plans, accounts, API keys, metering and quotas."""

    name = "apps.billing"
    label = "billing"

    def ready(self):
        from apps.billing import schema  # noqa: F401  (registers the OpenAPI description of API keys)
