from django.apps import AppConfig
from django.conf import settings
from django.contrib.admin.apps import AdminConfig


class NewsTunnelerAdminConfig(AdminConfig):
    """django.contrib.admin with the project's site (the operations overview on its index)."""

    default_site = "newstunneler.admin.NewsTunnelerAdminSite"


class NewsTunnelerConfig(AppConfig):
    """Project-wide wiring: starts the embedded Redis when no REDIS_URL is set; registers the project's checks
    and lookups."""

    name = "newstunneler"
    verbose_name = "News Tunneler"

    started_embedded_redis = False

    def ready(self):
        from newstunneler import (
            bulk,  # noqa: F401 - registers its system check
            collectors,
            lookups,  # noqa: F401 - registers __among
        )

        collectors.register()

        if settings.EMBEDDED_REDIS:
            from newstunneler import embedded_redis

            self.started_embedded_redis = embedded_redis.ensure_running(settings.VAR_DIR)
