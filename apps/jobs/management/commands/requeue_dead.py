from datetime import UTC, datetime

from apps.jobs import services
from apps.jobs.models import Job
from newstunneler.commands import OperatorCommand, parse_day


class Command(OperatorCommand):
    help = "Requeue dead letters, optionally only those of an actor, an error class or since a day."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--actor", default="")
        parser.add_argument("--error", default="", help="error class, or part of it (e.g. Timeout)")
        parser.add_argument("--since", default=None, help="died on or after this day (YYYY-MM-DD)")

    def handle(self, *args, actor, error, since, **options):
        dead = Job.objects.dead().order_by("finished_at")
        if actor:
            dead = dead.filter(actor=actor)
        if error:
            dead = dead.filter(error_class__icontains=error)
        if since:
            dead = dead.filter(finished_at__gte=datetime.combine(parse_day("--since", since), datetime.min.time(), UTC))
        jobs = list(dead[:10_000])
        self.stdout.write(f"{len(jobs)} dead letter(s) match.")
        for start in range(0, len(jobs), 500):
            services.job_requeue(jobs=jobs[start:start + 500], user=None)
            self.progress(min(start + 500, len(jobs)), len(jobs))
        self.stdout.write(self.style.SUCCESS(f"Requeued {len(jobs)} job(s)."))
