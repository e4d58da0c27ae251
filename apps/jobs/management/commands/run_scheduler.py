from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.jobs import scheduler


class Command(BaseCommand):
    help = "Run the scheduler: fire due schedules every few seconds until stopped (SIGTERM/Ctrl-C)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval", type=float, default=settings.SCHEDULER_INTERVAL, help="Seconds between ticks."
        )
        parser.add_argument("--once", action="store_true", help="Run a single tick and exit.")

    def handle(self, *args, interval, once, **options):
        if interval <= 0:
            raise CommandError("--interval must be a positive number of seconds")
        if settings.SCHEDULER_METRICS_PORT:
            # Its own exposition (ticks, jobs fired, errors, and the scrape-time gauges), for Prometheus.
            import prometheus_client

            prometheus_client.start_http_server(settings.SCHEDULER_METRICS_PORT, addr=settings.SCHEDULER_METRICS_HOST)
        ticks = scheduler.run_forever(interval, max_ticks=1 if once else None)
        if options["verbosity"] > 1:
            self.stdout.write(f"{ticks} tick(s)")
