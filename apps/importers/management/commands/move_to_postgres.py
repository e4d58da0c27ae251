from apps.importers.move import MoveError, Mover, target_state
from newstunneler.commands import CommandError, OperatorCommand


class Command(OperatorCommand):
    help = (
        "Copy every table of the embedded SQLite database into an empty PostgreSQL database (migrated here), "
        "in batches with progress; an interrupted run resumes when run again. Then checks parity (row counts "
        "and a checksum per table) and prints the settings to change. Stop `make run` first."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)  # --dry-run: check both databases, list what would be copied
        parser.add_argument("url", help="the target: postgres://user:password@host:5432/dbname (an empty database)")
        parser.add_argument("--batch-size", type=int, default=2000, help="rows per transaction (default 2000)")
        parser.add_argument("--skip-parity", action="store_true", help="copy only (check later by running again)")

    def handle(self, *args, url, batch_size, dry_run, skip_parity, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            mover = Mover(url, batch_size=batch_size, progress=self.progress, say=self.stdout.write)
            plan = mover.plan()
            total = sum(rows for _, rows in plan)
            self.stdout.write(f"{len(plan)} tables, {total} rows in the SQLite database.")
            if dry_run:
                state = target_state(mover.target)
                for table, rows in plan:
                    self.stdout.write(f"  {table}: {rows}")
                verdict = {"fresh": "an empty database: it would be migrated, then filled",
                           "empty": "migrated and without data: it would be filled",
                           "resume": "an interrupted move: it would resume",
                           "not empty": "NOT empty: the move would refuse it"}[state]
                self.stdout.write(f"The target is {verdict}.")
                return
            state = mover.prepare()
            self.stdout.write("Resuming the interrupted move ..." if state == "resume" else "Copying ...")
            copied = mover.copy()
            self.stdout.write(f"Copied {sum(copied.values())} rows in this run.")
            if skip_parity:
                return
            self.stdout.write("Checking parity ...")
            mismatched = [p for p in mover.parity() if not p.ok]
        except MoveError as exc:
            raise CommandError(str(exc)) from None
        for p in mismatched:
            self.stderr.write(f"  {p.table}: {p.source_rows} rows / checksum {p.source_checksum} in SQLite, "
                              f"{p.target_rows} / {p.target_checksum} in PostgreSQL")
        if mismatched:
            raise CommandError(f"{len(mismatched)} table(s) differ: the SQLite database changed during the move? "
                               "Stop every process and run again on a new empty database.")
        mover.finish()
        self.stdout.write(self.style.SUCCESS(f"Parity: {len(plan)} tables, {total} rows, every checksum equal."))
        self.stdout.write(
            "Now set, for web, worker and scheduler (e.g. in .env or compose):\n"
            f"  DATABASE_URL={_masked(url)}\n"
            "  REDIS_URL=redis://HOST:6379/0   (a real Redis: the embedded one is for SQLite mode)\n"
            "and restart. The SQLite file under NT_VAR_DIR stays as it was: keep it until you are satisfied.")


def _masked(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":****@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
