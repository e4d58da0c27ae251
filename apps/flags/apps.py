from django.apps import AppConfig


class FlagsConfig(AppConfig):
    """Feature flags on top of django-waffle."""

    name = "apps.flags"
    label = "flags"

    def ready(self):
        from apps.flags import audit

        audit.connect()
