from django.core.validators import validate_email
from django.utils import timezone

from apps import flags
from apps.signals import digests
from apps.signals.models import Frequency
from newstunneler.commands import CommandError, OperatorCommand

DEFAULT_MIN_SCORE = 60  # for --to an address with no subscription (the subscriptions' default too)


class Command(OperatorCommand):
    help = (
        "Send the daily or weekly digest now, here (not through the queue), to every active subscription of "
        "that frequency, or only to --to EMAIL (an address without a subscription gets a one-off digest of "
        "signals scoring 60+). A recipient who already got this period's digest is skipped. --dry-run sends "
        "nothing and says who would get how many signals."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("kind", choices=[Frequency.DAILY, Frequency.WEEKLY])
        parser.add_argument("--to", default="", help="only this address")

    def handle(self, *args, kind, to, **options):
        if to:
            try:
                validate_email(to)
            except Exception:
                raise CommandError(f"--to must be an email address, not {to!r}") from None
        if not flags.is_enabled("email_digests") and not self.dry_run:
            raise CommandError("The email_digests flag is off: turn it on in the admin (Flags) to send digests.")
        now = timezone.now()
        period = digests.period_of(kind, now)
        subscriptions = digests.due_subscriptions(kind, to)
        targets = [(s.recipient, s) for s in subscriptions]
        if to and not targets:
            targets = [(to.strip().lower(), None)]
            self.stdout.write(f"{to} has no active {kind} subscription: a one-off digest (score >= {DEFAULT_MIN_SCORE}).")
        self.stdout.write(f"{kind} digest for {period}: {len(targets)} recipient(s).")
        counts, failed = {}, 0
        for done, (recipient, subscription) in enumerate(targets, 1):
            if self.dry_run:
                status = self._preview(kind, now, period, recipient, subscription)
            else:
                try:
                    outcome = digests.send(kind, recipient=recipient, now=now, subscription=subscription,
                                           min_score=DEFAULT_MIN_SCORE)
                    status = outcome.status + (f" ({_signals(outcome.signals)})" if outcome.signals else "")
                except Exception as exc:  # report and go on: one bad address must not stop the rest
                    failed += 1
                    status = "failed"
                    self.stderr.write(f"{recipient}: {type(exc).__name__}: {exc}")
            counts[status.split(" (")[0]] = counts.get(status.split(" (")[0], 0) + 1
            if self.verbosity >= 2 or self.dry_run:
                self.stdout.write(f"  {recipient}: {status}")
            self.progress(done, len(targets), recipient)
        summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "nothing to do"
        if failed:
            raise CommandError(f"Digests: {summary}.")
        self.stdout.write(self.style.SUCCESS(f"Digests: {summary}."))

    def _preview(self, kind, now, period, recipient, subscription) -> str:
        if digests.already_sent(kind, period, recipient):
            return "already sent"
        found = digests.due_signals(kind, now, subscription, min_score=DEFAULT_MIN_SCORE)
        return f"would send ({_signals(len(found))})" if found else "empty"


def _signals(count: int) -> str:
    return f"{count} signal{'' if count == 1 else 's'}"
