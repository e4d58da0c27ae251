from apps.jobs import services
from newstunneler.commands import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Re-send jobs whose message was lost (queued but not in the broker, or running on a worker that "
        "stopped heartbeating). Jobs still in the broker or running on a live worker are left alone."
    )

    def handle(self, *args, **options):
        result = services.jobs_reconcile()
        self.stdout.write(f"Checked {result.checked} job(s); re-sent {len(result.resent)}.")
        for job_id in result.resent[:50]:
            self.stdout.write(f"  re-sent {job_id}")
