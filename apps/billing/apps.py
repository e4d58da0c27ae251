from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Plans, accounts, API keys, metering and quotas."""

    name = "apps.billing"
    label = "billing"
