from apps.articles import services
from apps.articles.analysis import finbert
from apps.articles.models import Article, ScoringPolicy
from apps.jobs.enqueue import Call, enqueue_many
from newstunneler.commands import CommandError, OperatorCommand


class Command(OperatorCommand):
    help = (
        "Analyse articles scoring at least --min-score (default: the policy threshold) that have no analysis "
        "yet, best first. Queues analyze_article jobs, or with --sync analyses here. Resumable: analysed "
        "articles are skipped on the next run."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--min-score", type=float, default=None)
        parser.add_argument("--limit", type=int, default=None, help="at most this many articles")
        parser.add_argument("--provider", choices=["llm", "offline", "finbert"], default=None,
                            help="default: the LLM when configured and within budget, else FinBERT when "
                                 "switched on, else the offline rules")
        parser.add_argument("--sync", action="store_true", help="analyse in this process instead of queueing")

    def handle(self, *args, min_score, limit, provider, sync, **options):
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1")
        if provider == "finbert":
            if not finbert.is_enabled():
                raise CommandError("FinBERT is not enabled: set NT_FINBERT_PATH and switch finbert_sentiment on")
            try:
                finbert.classifier()
            except finbert.FinbertUnavailable as exc:
                raise CommandError(str(exc)) from None
        threshold = ScoringPolicy.current().alert_threshold if min_score is None else min_score
        pending = (Article.objects.filter(score__total__gte=threshold, analysis__isnull=True)
                   .order_by("-score__total", "pk").values_list("pk", flat=True))
        ids = list(pending[:limit] if limit else pending)
        self.stdout.write(f"{len(ids)} article(s) at or above {threshold} without an analysis.")
        failed = 0
        if not sync:  # one INSERT and one Redis round trip per 500 jobs
            for first in range(0, len(ids), 500):
                chunk = ids[first:first + 500]
                enqueue_many("analyze_article", [Call(args=(article_id,), kwargs={"provider": provider})
                                                 for article_id in chunk])
                self.progress(first + len(chunk), len(ids), f"article {chunk[-1]}")
        for done, article_id in enumerate(ids if sync else [], 1):
            try:
                services.article_analyze(article=Article.objects.get(pk=article_id), provider=provider)
            except Exception as exc:  # report and go on: one bad article must not stop a backfill
                failed += 1
                self.stderr.write(f"article {article_id}: {type(exc).__name__}: {exc}")
            self.progress(done, len(ids), f"article {article_id}")
        verb = "Analysed" if sync else "Queued analysis of"
        self.stdout.write(self.style.SUCCESS(f"{verb} {len(ids) - failed} article(s)" + (f"; {failed} failed." if failed else ".")))
