from django.apps import AppConfig


class SignalsConfig(AppConfig):
    """Per-ticker signals, digests and alerts."""

    name = "apps.signals"
    label = "signals"

    def ready(self):
        from apps.jobs.signals import job_dead
        from apps.signals import notify

        job_dead.connect(notify.job_died, dispatch_uid="signals-webhook-job-dead")
