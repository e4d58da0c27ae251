from apps.articles import polling
from apps.articles.models import Source
from apps.jobs.enqueue import enqueue_many
from newstunneler.commands import CommandError, OperatorCommand


class Command(OperatorCommand):
    help = (
        "Poll feeds: queue a poll_source job per due source (or the --source ids), or with --sync poll them "
        "here, one after another, printing each source's result."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--source", type=int, action="append", dest="source_ids", help="a source id (repeatable)")
        parser.add_argument("--sync", action="store_true", help="poll in this process and print per-source results")
        parser.add_argument("--all", action="store_true", help="every enabled source, due or not")

    def handle(self, *args, source_ids, sync, all, **options):
        if source_ids:
            sources = list(Source.objects.filter(pk__in=source_ids))
            missing = set(source_ids) - {s.pk for s in sources}
            if missing:
                raise CommandError(f"no source with id {', '.join(map(str, sorted(missing)))}")
        else:
            sources = list((Source.objects.filter(enabled=True) if all else Source.objects.due()).order_by("id"))
        if not sync:
            enqueue_many("poll_source", [(source.pk,) for source in sources])
            self.stdout.write(f"Queued {len(sources)} poll(s).")
            return
        totals = {"ok": 0, "not_modified": 0, "failed": 0, "new": 0}
        for done, source in enumerate(sources, 1):
            try:
                result = polling.source_poll(source=source)
            except Exception as exc:  # an unexpected bug in one source must not stop the others
                polling.source_record_failure(source=source, kind="internal", message=f"{type(exc).__name__}: {exc}")
                result = polling.PollResult(source.pk, "failed", error=f"internal: {type(exc).__name__}: {exc}")
            totals[result.status] += 1
            totals["new"] += result.new
            self.stdout.write(f"[{done}/{len(sources)}] {self._line(source, result)}")
        self.stdout.write(
            f"{len(sources)} source(s): {totals['ok']} ok, {totals['not_modified']} not modified, "
            f"{totals['failed']} failed; {totals['new']} new article(s)."
        )

    def _line(self, source, result):
        if result.status == "failed":
            return self.style.ERROR(f"FAILED {source} (id {source.pk}): {result.error}")
        if result.status == "not_modified":
            return f"not modified {source} (id {source.pk})"
        warning = f"; warning: {result.warning}" if result.warning else ""
        return self.style.SUCCESS(
            f"ok {source} (id {source.pk}): {result.new} new, {result.duplicates} duplicate(s), "
            f"{result.skipped} skipped, {len(result.analyses_queued)} analysis job(s) queued{warning}"
        )
