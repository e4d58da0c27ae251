from django.core.exceptions import ValidationError

from apps.articles import services
from apps.articles.models import Source, SourceKind
from newstunneler.commands import CommandError, OperatorCommand, validation_message
from newstunneler.netguard import BlockedURL


class Command(OperatorCommand):
    help = ("Add a source (http/https, public address): a feed, or with --kind a subreddit or Reddit search, an X "
            "search or list, the SEC's Form 4 feed. Credibility defaults from the domain.")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("url")
        parser.add_argument("--kind", default="rss", choices=[kind.value for kind in SourceKind],
                            help="rss (default), reddit, x or sec_form4")
        parser.add_argument("--name", default="")
        parser.add_argument("--interval", type=int, default=15, help="minutes between polls (default 15)")
        parser.add_argument("--credibility", type=float, default=None, help="0-5 (default: from the domain)")
        parser.add_argument("--disabled", action="store_true", help="add it without polling it yet")

    def handle(self, *args, url, kind, name, interval, credibility, disabled, **options):
        existing = Source.objects.filter(url=url).first()
        if existing:
            raise CommandError(f"a source with this URL exists already (id {existing.pk}, {existing})")
        try:
            source = services.source_create(url=url, kind=kind, name=name, enabled=not disabled,
                                            poll_interval_minutes=interval, credibility=credibility)
        except BlockedURL as exc:
            raise CommandError(f"refused {url}: {exc}") from None
        except ValidationError as exc:
            raise CommandError(validation_message(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Added source {source.pk}: {source} ({kind}, credibility {source.credibility}, every {interval} min)"))
