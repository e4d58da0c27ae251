from apps.articles import services
from apps.articles.models import Article, ScoringPolicy
from newstunneler.commands import CommandError, OperatorCommand, parse_day


class Command(OperatorCommand):
    help = (
        "Re-score articles with the current scoring policy, oldest first in batches. Progress lines show the "
        "last id done: rerun with --start-id to resume."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--since", default=None, help="only articles published since (YYYY-MM-DD)")
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument("--start-id", type=int, default=0, help="resume after this article id")

    def handle(self, *args, since, batch_size, start_id, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        articles = Article.objects.filter(pk__gt=start_id).select_related("source").order_by("pk")
        if since:
            articles = articles.filter(published_at__date__gte=parse_day("--since", since))
        total, done, last_id = articles.count(), 0, start_id
        policy = ScoringPolicy.current()
        self.stdout.write(f"Re-scoring {total} article(s) with the current policy ...")
        while batch := list(articles.filter(pk__gt=last_id)[:batch_size]):
            done += services.article_rescore(articles=batch, policy=policy)
            last_id = batch[-1].pk
            self.progress(done, total, f"last id {last_id}")
        self.stdout.write(self.style.SUCCESS(f"Re-scored {done} article(s)."))
