import json
import sys

from django.core.management.base import BaseCommand, CommandError

from apps.articles import analysis
from apps.articles.analysis.llm import LLMFailure


class Command(BaseCommand):
    help = (
        "Analyse a text (or, with --stdin, one text per line) without storing anything. Prints stance, "
        "confidence, catalyst type and tickers; JSON lines with --json."
    )

    stealth_options = ("input_stream",)

    def add_arguments(self, parser):
        parser.add_argument("text", nargs="?", default=None)
        parser.add_argument("--stdin", action="store_true", help="read one text per line from standard input")
        parser.add_argument("--json", action="store_true", help="one JSON object per text")
        parser.add_argument("--provider", choices=["offline", "finbert", "llm"], default=None,
                            help="default: the LLM when configured and within budget, else FinBERT when "
                                 "switched on, else the offline rules")

    def handle(self, *args, text, stdin, provider, **options):
        as_json = options["json"]
        if bool(text) == stdin:
            raise CommandError("give either a TEXT argument or --stdin")
        source = options.get("input_stream") or sys.stdin
        lines = (line.strip() for line in source) if stdin else [text]
        for line in filter(None, lines):
            try:
                result = analysis.analyze(line, provider=provider)
            except LLMFailure as exc:
                raise CommandError(f"analysis failed for {line[:80]!r}: {exc}") from None
            self.stdout.write(self._render(line, result, as_json))

    def _render(self, line, result, as_json):
        plan = result.plan
        if as_json:
            return json.dumps({"text": line, "provider": result.provider, "model": result.model, **{
                key: plan[key] for key in ("stance", "confidence", "catalyst_type", "tickers")}})
        tickers = ",".join(plan["tickers"]) or "-"
        return f"{plan['stance']:<8} {plan['confidence']:.2f} {plan['catalyst_type']:<9} {tickers:<16} {line}"
