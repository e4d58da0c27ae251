from pathlib import Path

from django.core.management.base import CommandError

from apps.markets import services
from apps.markets.providers import csvfile
from newstunneler.commands import OperatorCommand


class Command(OperatorCommand):
    help = ("Import daily bars from a CSV export (header: symbol,date,open,high,low,close[,adj close][,volume]; "
            "symbol may be left out with --symbol). Known bars are updated; a bad row is reported and skipped.")

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("file", help="the CSV file")
        parser.add_argument("--symbol", help="the symbol of every row, for a one-symbol export without a symbol column")

    def handle(self, *args, file: str, symbol: str | None = None, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        bars, problems, total = [], [], 0
        with path.open(newline="", encoding="utf-8-sig") as lines:
            try:
                for number, bar, reason in csvfile.read(lines, symbol=symbol.upper() if symbol else None):
                    total += 1
                    if bar is None:
                        problems.append(f"line {number}: {reason}")
                    else:
                        bars.append(bar)
            except csvfile.CsvLayoutError as exc:
                raise CommandError(f"{file}: {exc}") from None
            except UnicodeDecodeError as exc:
                raise CommandError(f"{file}: not UTF-8 text ({exc})") from None
        result = services.StoreResult()
        for first in range(0, len(bars), 2000):
            result.add(services.bars_store(bars[first:first + 2000], source=f"csv:{path.name}"))
            self.progress(min(first + 2000, len(bars)), len(bars), "bars")
        for problem in problems + result.rejected:
            self.stderr.write(f"  skipped {problem}")
        skipped = len(problems) + len(result.rejected)
        self.stdout.write(self.style.SUCCESS(
            f"{total} row(s): {result.created} bar(s) created, {result.updated} updated, {skipped} skipped."))
