from django.apps import AppConfig


class JobsConfig(AppConfig):
    """Background jobs: actors, the scheduler and (with the jobs issue) the durable ledger."""

    name = "apps.jobs"
    label = "jobs"

    def ready(self):
        from apps.jobs import metrics

        metrics.register()
