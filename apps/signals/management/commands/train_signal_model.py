import json
import time

from django.core.management.base import BaseCommand, CommandError

from apps.signals import predictions
from apps.signals.backtest import start_of_day
from newstunneler.commands import parse_day


class Command(BaseCommand):
    help = ("Train the model of P(excess return > 0 after 5 sessions) on the signals with outcomes, walk-forward, "
            "calibrated; print its AUC, Brier score and calibration table next to the naive baseline (the score "
            "alone), and store it. It becomes the model ml_predictions uses only if it beats the baseline. With "
            "the advanced_ml switch on (or --advanced), gradient boosting competes and the better one is kept.")

    def add_arguments(self, parser):
        parser.add_argument("--horizon", type=int, default=predictions.HORIZON, choices=[1, 5, 20],
                            help="sessions after entry (5)")
        parser.add_argument("--folds", type=int, default=5, help="walk-forward folds (5)")
        parser.add_argument("--since", help="only signals from this day (YYYY-MM-DD, UTC)")
        parser.add_argument("--limit", type=int, default=200_000, help="only the newest N signals (200,000)")
        parser.add_argument("--min-samples", type=int, default=predictions.MIN_SAMPLES)
        parser.add_argument("--advanced", action="store_true", default=None,
                            help="let gradient boosting compete whatever the advanced_ml switch says")
        parser.add_argument("--dry-run", action="store_true", help="evaluate only; store nothing")
        parser.add_argument("--json", action="store_true", dest="as_json", help="the report as JSON")

    def handle(self, *args, horizon, folds, since, limit, min_samples, advanced, dry_run, as_json, **options):
        if folds < 2:
            raise CommandError("--folds must be at least 2")
        if limit is not None and limit < 1:
            raise CommandError("--limit must be positive")
        try:
            report = predictions.train(horizon=horizon, folds=folds, since=start_of_day(parse_day("--since", since)),
                                       limit=limit, advanced=advanced, min_samples=min_samples, store=not dry_run,
                                       progress=self._progress(as_json or options.get("verbosity", 1) < 1))
        except predictions.NotEnoughData as exc:
            raise CommandError(str(exc)) from None
        if as_json:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
            return
        self.stdout.write(f"{report.samples} signals, {folds} walk-forward folds (each predicted by a model of the "
                          f"folds before it only), +{horizon} sessions")
        self.stdout.write(f"{'model':<10} {'AUC':>6} {'Brier':>7} {'n':>7}")
        for evaluation in [report.baseline, *report.candidates]:
            auc = f"{evaluation.auc:.3f}" if evaluation.auc is not None else "-"
            name = "baseline" if evaluation.kind == "baseline" else evaluation.kind
            self.stdout.write(f"{name:<10} {auc:>6} {evaluation.brier:>7.4f} {evaluation.n:>7}")
        self.stdout.write(f"winner: {report.winner.kind}"
                          + (" (gradient boosting lost to the logistic model)" if len(report.candidates) > 1
                             and report.winner.kind == "logistic" else ""))
        for evaluation in (report.baseline, report.winner):
            self.stdout.write(f"calibration, {evaluation.kind}: predicted -> observed (n)")
            for row in evaluation.calibration:
                self.stdout.write(f"  {row['bin']}  {row['predicted']:.3f} -> {row['observed']:.3f}  ({row['n']})")
        if report.model is None:
            self.stdout.write("Dry run: no model stored.")
        elif report.model.active:
            self.stdout.write(self.style.SUCCESS(f"Stored {report.model.version}: active (ml_predictions uses it)."))
        else:
            self.stdout.write(self.style.WARNING(
                f"Stored {report.model.version} inactive: its AUC does not beat the score alone; the active model "
                f"(if any) is unchanged. Staff can still activate it in the admin."))


    def _progress(self, quiet: bool):
        started = time.monotonic()

        def say(message: str) -> None:
            if not quiet:
                self.stderr.write(f"  [{time.monotonic() - started:5.1f} s] {message}")
        return say
