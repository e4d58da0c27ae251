import csv

from django.core.management.base import BaseCommand, CommandError

from apps.signals import backtest
from newstunneler.commands import parse_day

HORIZONS = {"1d": 1, "5d": 5, "20d": 20, "1": 1, "5": 5, "20": 20}
COLUMNS = ["breakdown", "group", "count", "directional", "hits", "hit_rate", "hit_rate_low", "hit_rate_high",
           "mean_excess", "median_excess", "ic", "note"]


class Command(BaseCommand):
    help = ("The backtest report: for one horizon and period, the hit rate (95% interval), mean and median excess "
            "return and information coefficient, overall and by label, catalyst, stance, source and score decile. "
            f"Groups under {backtest.MIN_SAMPLE} signals say their sample is too small.")

    def add_arguments(self, parser):
        parser.add_argument("--horizon", default="5d", choices=sorted(HORIZONS), help="sessions after entry (5d)")
        parser.add_argument("--since", help="signals entered from this day (YYYY-MM-DD, UTC)")
        parser.add_argument("--until", help="signals entered before this day (YYYY-MM-DD, UTC)")
        parser.add_argument("--csv", action="store_true", help="one CSV row per group, on standard output")

    def handle(self, *args, horizon="5d", since=None, until=None, csv=False, **options):
        since, until = (parse_day(name, value) for name, value in (("--since", since), ("--until", until)))
        if since and until and since >= until:
            raise CommandError("--until must be after --since")
        report = backtest.backtest(horizon=HORIZONS[horizon], since=backtest.start_of_day(since),
                                   until=backtest.start_of_day(until))
        rows = [("overall", report.overall)] + [(name, group) for name, groups in report.breakdowns.items()
                                                for group in groups]
        if csv:
            return self._csv(rows)
        period = f"{since or 'the start'} to {until or 'now'}"
        self.stdout.write(f"Backtest, +{HORIZONS[horizon]} sessions, signals entered from {period}: "
                          f"{report.overall.count} outcome(s) ({report.missing} missing bars left out)")
        self.stdout.write(f"{'breakdown':<13} {'group':<22} {'n':>6} {'hit rate (95% CI)':>22} {'mean xs':>9} "
                          f"{'median xs':>10} {'IC':>6}")
        for name, group in rows:
            if group.hit_rate is not None:
                hit = f"{group.hit_rate:6.1%} ({group.hit_rate_low:.1%}-{group.hit_rate_high:.1%})"
            else:
                hit = "-"
            mean = f"{group.mean_excess:+.2%}" if group.mean_excess is not None else "-"
            median = f"{group.median_excess:+.2%}" if group.median_excess is not None else "-"
            ic = f"{group.ic:+.2f}" if group.ic is not None else "-"
            self.stdout.write(f"{name:<13} {group.key[:22]:<22} {group.count:>6} {hit:>22} {mean:>9} {median:>10} "
                              f"{ic:>6}{'  ' + group.note if group.note else ''}")

    def _csv(self, rows):
        writer = csv.writer(self.stdout)
        writer.writerow(COLUMNS)
        for name, group in rows:
            writer.writerow([name, group.key, group.count, group.directional, group.hits, group.hit_rate,
                             group.hit_rate_low, group.hit_rate_high, group.mean_excess, group.median_excess, group.ic,
                             group.note])
