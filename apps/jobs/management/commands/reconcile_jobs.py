from apps.jobs import services
from newstunneler.commands import OperatorCommand


class Command(OperatorCommand):
    help = (
        "Give the messages held by dead workers back to their queues, then re-send jobs whose message was "
        "lost (queued but not in the broker, or running on a worker that stopped heartbeating). Jobs still "
        "in the broker or running on a live worker are left alone; jobs of actors that no longer exist end "
        "dead. The scheduler does this by itself every NT_JOBS_RECONCILE_EVERY seconds."
    )

    def handle(self, *args, **options):
        result = services.jobs_reconcile()
        returned = sum(result.returned.values())
        self.stdout.write(f"Returned {returned} message(s) held by dead workers to their queues"
                          + (f" ({', '.join(f'{q}: {n}' for q, n in sorted(result.returned.items()))})" if returned else "")
                          + ".")
        self.stdout.write(f"Checked {result.checked} job(s); re-sent {len(result.resent)}; "
                          f"{len(result.unknown_actor)} of unknown actors marked dead.")
        for job_id in result.resent[:50]:
            self.stdout.write(f"  re-sent {job_id}")
        for job_id in result.unknown_actor[:50]:
            self.stdout.write(f"  dead (actor not registered) {job_id}")
