from datetime import UTC, datetime

from apps.jobs import services
from apps.jobs.models import Job
from newstunneler.commands import CommandError, OperatorCommand, parse_day


class Command(OperatorCommand):
    help = ("Requeue dead letters, optionally only those of an actor, an error class or since a day; or the "
            "jobs named with --job (any state: queued, retrying, running and succeeded ones need --force).")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--actor", default="")
        parser.add_argument("--error", default="", help="error class, or part of it (e.g. Timeout)")
        parser.add_argument("--since", default=None, help="died on or after this day (YYYY-MM-DD)")
        parser.add_argument("--job", action="append", default=[], metavar="ID",
                            help="requeue this job instead of matching dead letters (repeatable)")
        parser.add_argument("--force", action="store_true",
                            help="also requeue named jobs that are queued, retrying, running or succeeded: "
                                 "they run again, beside a run that may be under way")

    def handle(self, *args, actor, error, since, job, force, **options):
        jobs = self._named(job) if job else self._dead(actor, error, since)
        self.stdout.write(f"{len(jobs)} {'job' if job else 'dead letter'}(s) match.")
        refused = [j for j in jobs if j.status in services.NEEDS_FORCE]
        if refused and not force:
            listed = "\n".join(f"  {j.pk} {j.actor} is {j.status}" for j in refused[:20])
            raise CommandError(f"{len(refused)} job(s) are not dead: requeueing would run them again beside "
                               f"their own run. Add --force to requeue them anyway.\n{listed}")
        for start in range(0, len(jobs), 500):
            services.job_requeue(jobs=jobs[start:start + 500], user=None, force=force)
            self.progress(min(start + 500, len(jobs)), len(jobs))
        self.stdout.write(self.style.SUCCESS(f"Requeued {len(jobs)} job(s)."))

    @staticmethod
    def _named(ids: list[str]) -> list[Job]:
        found = {j.pk: j for j in Job.objects.filter(pk__in=ids)}
        missing = [i for i in ids if i not in found]
        if missing:
            raise CommandError(f"no job with id {', '.join(missing)}")
        return [found[i] for i in dict.fromkeys(ids)]

    @staticmethod
    def _dead(actor: str, error: str, since: str | None) -> list[Job]:
        dead = Job.objects.dead().order_by("finished_at")
        if actor:
            dead = dead.filter(actor=actor)
        if error:
            dead = dead.filter(error_class__icontains=error)
        if since:
            dead = dead.filter(finished_at__gte=datetime.combine(parse_day("--since", since), datetime.min.time(), UTC))
        return list(dead[:10_000])
