from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Plans, accounts, API keys, metering and quotas."""

    name = "apps.billing"
    label = "billing"

    def ready(self):
        from django.db.models.signals import post_migrate

        from apps.billing import schema  # noqa: F401  (registers the OpenAPI description of API keys)

        post_migrate.connect(_ensure_roles, sender=self, dispatch_uid="billing-roles")


def _ensure_roles(sender, **kwargs):
    from apps.billing.roles import ensure_roles

    ensure_roles()
