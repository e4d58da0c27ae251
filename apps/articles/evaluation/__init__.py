"""The labelled evaluation set (data/eval/*.tsv: stance, gold tickers, text; written by the team) and the
measures `manage.py evaluate_analysis` reports: ticker precision and recall, stance accuracy, macro-F1,
the confusion matrix, and time per sentence."""

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parent.parent / "data" / "eval"
STANCES = ("BULLISH", "BEARISH", "NEUTRAL")


@dataclass(frozen=True)
class Example:
    text: str
    tickers: frozenset[str]
    stance: str
    where: str  # file:line


def load(path: Path | None = None) -> list[Example]:
    """Every example of a TSV file (or of every file in data/eval). Raises ValueError naming a bad line."""
    files = [path] if path else sorted(EVAL_DIR.glob("*.tsv"))
    examples = []
    for file in files:
        for number, line in enumerate(file.read_text().splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 3 or parts[0] not in STANCES or not parts[2].strip():
                raise ValueError(f"{file.name}:{number}: expected STANCE<tab>TICKERS<tab>TEXT, got {line[:80]!r}")
            tickers = frozenset(t.strip() for t in parts[1].split(",") if t.strip())
            examples.append(Example(parts[2].strip(), tickers, parts[0], f"{file.name}:{number}"))
    return examples


@dataclass
class Report:
    sentences: int = 0
    true_tickers: int = 0
    false_tickers: list[tuple[str, str]] = field(default_factory=list)  # (symbol, text)
    missed_tickers: list[tuple[str, str]] = field(default_factory=list)
    confusion: Counter = field(default_factory=Counter)  # (gold, predicted) -> count
    seconds: float = 0.0

    @property
    def precision(self) -> float:
        found = self.true_tickers + len(self.false_tickers)
        return self.true_tickers / found if found else 1.0

    @property
    def recall(self) -> float:
        gold = self.true_tickers + len(self.missed_tickers)
        return self.true_tickers / gold if gold else 1.0

    @property
    def accuracy(self) -> float:
        return sum(n for (gold, predicted), n in self.confusion.items() if gold == predicted) / max(1, self.sentences)

    def f1(self, stance: str) -> float:
        tp = self.confusion[(stance, stance)]
        predicted = sum(n for (_, p), n in self.confusion.items() if p == stance)
        gold = sum(n for (g, _), n in self.confusion.items() if g == stance)
        if not tp:
            return 0.0
        precision, recall = tp / predicted, tp / gold
        return 2 * precision * recall / (precision + recall)

    @property
    def macro_f1(self) -> float:
        return sum(self.f1(stance) for stance in STANCES) / len(STANCES)

    @property
    def ms_per_sentence(self) -> float:
        return 1000 * self.seconds / max(1, self.sentences)

    def as_dict(self) -> dict:
        return {
            "sentences": self.sentences, "ticker_precision": round(self.precision, 4),
            "ticker_recall": round(self.recall, 4), "stance_accuracy": round(self.accuracy, 4),
            "stance_macro_f1": round(self.macro_f1, 4), "ms_per_sentence": round(self.ms_per_sentence, 3),
            "confusion": {gold: {p: self.confusion[(gold, p)] for p in STANCES} for gold in STANCES},
            "false_tickers": [{"symbol": s, "text": t} for s, t in self.false_tickers],
            "missed_tickers": [{"symbol": s, "text": t} for s, t in self.missed_tickers],
        }


def evaluate(examples: list[Example], analyse_many, batch: int = 64) -> Report:
    """`analyse_many(texts)` returns one (tickers, stance) per text; it is called `batch` texts at a time
    (a model classifies them together). Time is the analyser's alone."""
    report = Report()
    for start in range(0, len(examples), batch):
        chunk = examples[start:start + batch]
        started = time.perf_counter()
        results = analyse_many([example.text for example in chunk])
        report.seconds += time.perf_counter() - started
        for example, (tickers, stance) in zip(chunk, results, strict=True):
            report.sentences += 1
            predicted = set(tickers)
            report.true_tickers += len(predicted & example.tickers)
            report.false_tickers += [(s, example.text) for s in sorted(predicted - example.tickers)]
            report.missed_tickers += [(s, example.text) for s in sorted(example.tickers - predicted)]
            report.confusion[(example.stance, stance)] += 1
    return report
