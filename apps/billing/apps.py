from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Plans, accounts, API keys, metering and quotas."""

    name = "apps.billing"
    label = "billing"

    def ready(self):
        from django.db.models.signals import post_migrate

        from apps.billing import schema  # noqa: F401  (registers the OpenAPI description of API keys)

        post_migrate.connect(_ensure_roles, sender=self, dispatch_uid="billing-roles")
        _forget_cached_keys_on_change()


def _forget_cached_keys_on_change():
    """A change to a key, account, plan or user drops the cached key rows it affects (authentication.py)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.db.models.signals import post_delete, post_save

    from apps.billing.models import Account, ApiKey, Plan

    def prefixes(sender, instance):
        if sender is ApiKey:
            return [instance.prefix]
        keys = ApiKey.objects.all()
        if sender is Account:
            keys = keys.filter(account_id=instance.pk)
        elif sender is Plan:
            keys = keys.filter(account__plan_id=instance.pk)
        else:
            keys = keys.filter(account__owner_id=instance.pk)
        return list(keys.values_list("prefix", flat=True))

    def forget(sender, instance, **kwargs):
        from apps.billing.authentication import forget as forget_prefixes

        affected = prefixes(sender, instance)  # now: after a delete commits, the keys are gone
        if affected:  # now, and again once committed (a request may re-cache the old row in between)
            forget_prefixes(affected)
            transaction.on_commit(lambda: forget_prefixes(affected))

    for model in (ApiKey, Account, Plan, get_user_model()):
        uid = f"billing-forget-keys-{model._meta.label_lower}"
        post_save.connect(forget, sender=model, dispatch_uid=uid + "-save", weak=False)
        post_delete.connect(forget, sender=model, dispatch_uid=uid + "-delete", weak=False)


def _ensure_roles(sender, **kwargs):
    from apps.billing.roles import ensure_roles

    ensure_roles()
