from apps.articles import services
from newstunneler.commands import CommandError, OperatorCommand


class Command(OperatorCommand):
    help = ("Queue a new analysis of recent articles whose analysis was unsure (confidence below --max-confidence), "
            "least sure first. The schedule 'reanalyze unsure analyses' does this every 6 hours.")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--max-confidence", type=float, default=0.5, help="0-1 (default 0.5)")
        parser.add_argument("--hours", type=int, default=24, help="articles published in the last HOURS (default 24)")
        parser.add_argument("--limit", type=int, default=200, help="at most this many (default 200)")

    def handle(self, *args, max_confidence, hours, limit, **options):
        if not 0 < max_confidence <= 1:
            raise CommandError("--max-confidence must be above 0 and at most 1")
        if hours < 1 or limit < 1:
            raise CommandError("--hours and --limit must be at least 1")
        jobs = services.analysis_requeue_unsure(max_confidence=max_confidence, hours=hours, limit=limit)
        self.stdout.write(f"Queued {len(jobs)} analysis job(s) for articles whose analysis had confidence below "
                          f"{max_confidence} in the last {hours} h.")
