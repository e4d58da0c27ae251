from datetime import UTC, datetime, time

from django.core.management.base import CommandError
from django.db.models import Q

from apps.signals.models import Signal
from apps.signals.outcomes import OutcomeResult, outcomes_compute
from newstunneler.commands import OperatorCommand, parse_day


class Command(OperatorCommand):
    help = ("Compute the outcomes (+1, +5, +20 sessions) every signal lacks and can have from the stored daily bars. "
            "Resumable: rows already made are kept, so a second run (or one after an interruption) does only the rest.")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--since", help="only signals from this day (YYYY-MM-DD)")
        parser.add_argument("--batch-size", type=int, default=2000, help="signals per batch (default 2000)")

    def handle(self, *args, since=None, batch_size=2000, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        signals = Signal.objects.all()
        if since:
            signals = signals.filter(t__gte=datetime.combine(parse_day("--since", since), time.min, tzinfo=UTC))
        # Symbol by symbol, oldest first: each batch then needs the bars of one symbol (and the benchmark)
        # over a few weeks, not of every symbol.
        symbols = sorted(set(signals.values_list("symbol", flat=True).distinct()))
        total_count, done, total = signals.count(), 0, OutcomeResult()
        self.stdout.write(f"{total_count} signal(s) of {len(symbols)} symbol(s) to look at.")
        for symbol in symbols:
            last_t, last_id = None, 0
            while True:
                batch = signals.filter(symbol=symbol).order_by("t", "id")
                if last_t is not None:
                    batch = batch.filter(Q(t__gt=last_t) | Q(t=last_t, id__gt=last_id))
                chunk = list(batch[:batch_size])
                if not chunk:
                    break
                last_t, last_id, done = chunk[-1].t, chunk[-1].pk, done + len(chunk)
                result = outcomes_compute(signals=chunk)
                total.created += result.created
                total.missing += result.missing
                total.waiting += result.waiting
                self.progress(done, total_count, f"{symbol}: {total.created} outcome(s) made")
        self.stdout.write(self.style.SUCCESS(
            f"{total.created} outcome(s) made ({total.missing} missing bars: halted or no data); "
            f"{total.waiting} still waiting for their exit bar."))
