import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from apps.articles import analysis, evaluation
from apps.articles.analysis import finbert, offline
from apps.articles.analysis.llm import LLMFailure


class Command(BaseCommand):
    help = ("Measure an analyser on a labelled set (default: the shipped set in apps/articles/data/eval): ticker "
            "precision and recall with the false and missed tickers, stance accuracy, macro-F1, the confusion "
            "matrix and time per sentence. With --min-* floors it exits 1 when a measure is below its floor (CI).")

    def add_arguments(self, parser):
        parser.add_argument("--set", dest="path", default=None, help="a TSV file: STANCE<tab>TICKERS<tab>TEXT per line")
        parser.add_argument("--provider", choices=["offline", "finbert", "llm"], default="offline",
                            help="offline: the rules; finbert: the model at NT_FINBERT_PATH (whatever the switch "
                                 "says); llm: the configured LLM, within today's budget")
        parser.add_argument("--json", action="store_true", help="the report as one JSON object")
        parser.add_argument("--min-precision", type=float, default=None)
        parser.add_argument("--min-recall", type=float, default=None)
        parser.add_argument("--min-accuracy", type=float, default=None)
        parser.add_argument("--min-macro-f1", type=float, default=None)

    def handle(self, *args, path, provider, **options):
        try:
            examples = evaluation.load(Path(path) if path else None)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read the set: {exc}") from None
        if not examples:
            raise CommandError("the set has no examples")

        def analyse_many(texts):
            if provider == "finbert":  # the sentences of a batch go through the model together
                return [(r.plan["tickers"], r.plan["stance"]) for r in (
                    finbert.analyze(text, prediction=p) for text, p in zip(
                        texts, finbert.predict_many([(text, "") for text in texts]), strict=True))]
            results = []
            for text in texts:
                try:  # the offline analyser itself (no flag or database read), or the LLM through its gate
                    result = offline.analyze(text) if provider == "offline" else analysis.analyze(text, provider=provider)
                except LLMFailure as exc:
                    raise CommandError(f"the {provider} analyser failed on {text[:80]!r}: {exc}") from None
                results.append((result.plan["tickers"], result.plan["stance"]))
            return results

        if provider == "finbert":
            if not settings.FINBERT_PATH:
                raise CommandError("set NT_FINBERT_PATH to the model directory (README: FinBERT)")
            try:
                finbert.classifier()
            except finbert.FinbertUnavailable as exc:
                raise CommandError(str(exc)) from None
        report = evaluation.evaluate(examples, analyse_many)
        if options["json"]:
            self.stdout.write(json.dumps({"provider": provider, **report.as_dict()}))
        else:
            self._print(provider, report)
        self._check_floors(report, options)

    def _print(self, provider, report):
        out = self.stdout.write
        out(f"{report.sentences} sentences, {provider} analyser, {report.ms_per_sentence:.2f} ms per sentence")
        out(f"tickers: precision {report.precision:.3f}, recall {report.recall:.3f} "
            f"({report.true_tickers} right, {len(report.false_tickers)} false, {len(report.missed_tickers)} missed)")
        for symbol, text in report.false_tickers:
            out(f"  false  {symbol:<6} {text}")
        for symbol, text in report.missed_tickers:
            out(f"  missed {symbol:<6} {text}")
        out(f"stance: accuracy {report.accuracy:.3f}, macro-F1 {report.macro_f1:.3f}")
        out("  gold \\ predicted   " + "".join(f"{s:>9}" for s in evaluation.STANCES))
        for gold in evaluation.STANCES:
            out(f"  {gold:<19}" + "".join(f"{report.confusion[(gold, p)]:>9}" for p in evaluation.STANCES))

    def _check_floors(self, report, options):
        measures = {"precision": report.precision, "recall": report.recall, "accuracy": report.accuracy,
                    "macro_f1": report.macro_f1}
        below = [f"{name} {measures[name]:.3f} < {options[f'min_{name}']}" for name in measures
                 if options[f"min_{name}"] is not None and measures[name] < options[f"min_{name}"]]
        if below:
            raise CommandError("below the floor: " + "; ".join(below))
