from apps.articles.models import Analysis
from apps.signals import services
from newstunneler.commands import OperatorCommand, parse_day


class Command(OperatorCommand):
    help = (
        "Rebuild signals from stored analyses (an upsert per symbol and time: running it twice changes "
        "nothing). Progress lines show the last analysis id: resume with --start-id."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--since", default=None, help="only articles published since (YYYY-MM-DD)")
        parser.add_argument("--start-id", type=int, default=0, help="resume after this analysis id")

    def handle(self, *args, since, start_id, **options):
        analyses = Analysis.objects.filter(pk__gt=start_id).select_related("article", "article__score").order_by("pk")
        if since:
            analyses = analyses.filter(article__published_at__date__gte=parse_day("--since", since))
        total = analyses.count()
        built = 0
        self.stdout.write(f"Building signals from {total} analysis(es) ...")
        for done, analysis in enumerate(analyses.iterator(chunk_size=500), 1):
            built += len(services.signals_from_analysis(analysis=analysis, announce=False))
            self.progress(done, total, f"last id {analysis.pk}")
        self.stdout.write(self.style.SUCCESS(f"{built} signal(s) written from {total} analysis(es)."))
