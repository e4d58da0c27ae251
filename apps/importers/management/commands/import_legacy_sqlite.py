from pathlib import Path

from apps.importers.legacy import LegacyDatabaseError, LegacyImporter, open_legacy
from newstunneler.commands import CommandError, OperatorCommand


class Command(OperatorCommand):
    help = (
        "Import a database of the original News Tunneler (SQLite: sources, articles, scores, signals, "
        "settings). Idempotent: a second run changes nothing. The file is opened read-only."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("path", help="the original's SQLite file (news_tunneler.db)")

    def handle(self, *args, path, **options):
        if not Path(path).is_file():
            raise CommandError(f"no such file: {path}")
        try:
            conn = open_legacy(path)
        except LegacyDatabaseError as exc:
            raise CommandError(str(exc)) from None
        with conn:
            reports = LegacyImporter(conn, progress=lambda t, done, total: self.progress(done, total, t)).run()
        for table, report in reports.items():
            self.stdout.write(
                f"{table}: {report.read} read, {report.created} imported, {report.unchanged} already there, "
                f"{report.skipped} skipped"
            )
            for problem in report.problems[:20]:
                self.stdout.write(f"  {problem}")
            if len(report.problems) > 20:
                self.stdout.write(f"  ... and {len(report.problems) - 20} more")
