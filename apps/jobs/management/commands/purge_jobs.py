from apps.jobs import services
from newstunneler.commands import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Delete finished jobs past retention: succeeded/skipped/discarded after NT_JOBS_KEEP_SUCCEEDED_DAYS "
        "(7), dead letters after NT_JOBS_KEEP_DEAD_DAYS (90)."
    )

    def handle(self, *args, **options):
        result = services.jobs_purge()
        self.stdout.write(f"Purged {result.finished} finished and {result.dead} dead job(s).")
