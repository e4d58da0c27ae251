"""A FinBERT-class sentence classifier, run with ONNX Runtime and the `tokenizers` library on CPU, batched.

Used for analyses made without an LLM when the `finbert_sentiment` switch is on and NT_FINBERT_PATH names a
directory holding:
- `model.onnx`: a sequence classifier taking `input_ids` and `attention_mask` (and `token_type_ids` if it
  declares it), int64 or int32, and returning logits of shape (batch, labels) as its first output;
- `tokenizer.json`: the model's tokenizer as saved by Hugging Face `tokenizers` (WordPiece for BERT);
- the label map: `labels.json` (a list in logit order, or {"0": "positive", ...}), else `config.json`'s
  `id2label` as a Hugging Face export writes it. Labels are positive/negative/neutral (or bullish/bearish).

The model decides the stance (title and the first sentences of the summary are classified in one batch,
the title counting twice); tickers, catalyst, facts and the rest of the plan come from the offline
analyser's rules. README explains how to export a public FinBERT model to such a directory.
"""

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from apps import flags
from apps.articles.analysis import offline
from apps.articles.analysis.schema import AnalysisResult

STANCE_OF = {"positive": "BULLISH", "bullish": "BULLISH", "negative": "BEARISH", "bearish": "BEARISH",
             "neutral": "NEUTRAL"}
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
FILES = ("model.onnx", "tokenizer.json")
MAX_SENTENCES = 8  # of the summary; the title always
_SENTENCE = re.compile(r"(?<=[.!?])\s+")


class FinbertUnavailable(Exception):
    """The model directory is missing, incomplete or unusable; the message says which file and why."""


@dataclass(frozen=True)
class Prediction:
    stance: str
    probabilities: dict[str, float]  # stance -> probability, summing to 1

    @property
    def confidence(self) -> float:
        return self.probabilities[self.stance]


class Classifier:
    """One loaded model: an ONNX Runtime session, its tokenizer and its label map."""

    def __init__(self, path: Path, *, max_tokens: int = 128, threads: int = 1):
        import numpy
        import onnxruntime
        from tokenizers import Tokenizer

        self._numpy = numpy
        self.path, self.max_tokens = path, max_tokens
        if not path.is_dir():
            raise FinbertUnavailable(f"NT_FINBERT_PATH={path}: no such directory")
        for name in FILES:
            if not (path / name).is_file():
                raise FinbertUnavailable(f"{path / name} is missing (the directory needs {', '.join(FILES)} "
                                         f"and labels.json or config.json)")
        self.labels = _labels(path)
        try:
            self.tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        except Exception as exc:  # tokenizers raises a bare Exception on a bad file
            raise FinbertUnavailable(f"{path / 'tokenizer.json'} is not a tokenizers file: {exc}") from None
        self.tokenizer.enable_truncation(max_length=max_tokens)
        pad_token = next((t for t in ("[PAD]", "<pad>") if self.tokenizer.token_to_id(t) is not None), None)
        self.tokenizer.enable_padding(pad_id=self.tokenizer.token_to_id(pad_token) if pad_token else 0,
                                      pad_token=pad_token or "[PAD]")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: the model's own warnings are not ours to print
        try:
            self.session = onnxruntime.InferenceSession(str(path / "model.onnx"), options,
                                                        providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime's errors (InvalidProtobuf, Fail, ...) share no public base
            raise FinbertUnavailable(f"{path / 'model.onnx'} is not a usable ONNX model: {exc}") from None
        self.inputs = {}
        for declared in self.session.get_inputs():
            if declared.name not in INPUTS:
                raise FinbertUnavailable(f"{path / 'model.onnx'} takes an input {declared.name!r}; a sequence "
                                         f"classifier takes {', '.join(INPUTS)}")
            self.inputs[declared.name] = numpy.int32 if declared.type == "tensor(int32)" else numpy.int64
        if "input_ids" not in self.inputs:
            raise FinbertUnavailable(f"{path / 'model.onnx'} has no input_ids input")
        probe = self._logits(["ok"])
        if probe.ndim != 2 or probe.shape[1] != len(self.labels):
            raise FinbertUnavailable(f"{path / 'model.onnx'} returns logits of shape {list(probe.shape)}, but the "
                                     f"label map has {len(self.labels)} labels")

    @property
    def name(self) -> str:
        return self.path.name

    def predict(self, texts: list[str], batch_size: int = 16) -> list[Prediction]:
        """One prediction per text, in order, `batch_size` texts per model call. Texts longer than the
        model's max_tokens are truncated (their start is what counts)."""
        numpy = self._numpy
        predictions = []
        for start in range(0, len(texts), batch_size):
            logits = self._logits(texts[start:start + batch_size])
            exp = numpy.exp(logits - logits.max(axis=1, keepdims=True))
            for row in exp / exp.sum(axis=1, keepdims=True):
                probabilities = dict.fromkeys(("BULLISH", "BEARISH", "NEUTRAL"), 0.0)
                for stance, p in zip(self.labels, row.tolist(), strict=True):
                    probabilities[stance] += p
                predictions.append(Prediction(max(probabilities, key=probabilities.get), probabilities))
        return predictions

    def _logits(self, texts: list[str]):
        numpy = self._numpy
        encodings = self.tokenizer.encode_batch([t or " " for t in texts])
        arrays = {"input_ids": [e.ids for e in encodings], "attention_mask": [e.attention_mask for e in encodings],
                  "token_type_ids": [e.type_ids for e in encodings]}
        feed = {name: numpy.asarray(arrays[name], dtype=dtype) for name, dtype in self.inputs.items()}
        return numpy.asarray(self.session.run(None, feed)[0], dtype=numpy.float64)


def _labels(path: Path) -> list[str]:
    """The stances in logit order, from labels.json or config.json's id2label."""
    for name, key in (("labels.json", None), ("config.json", "id2label")):
        file = path / name
        if not file.is_file():
            continue
        try:
            data = json.loads(file.read_text())
            if key:
                data = data[key]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise FinbertUnavailable(f"{file}: cannot read the label map ({type(exc).__name__}: {exc})") from None
        if isinstance(data, dict):
            try:
                ordered = [data[k] for k in sorted(data, key=int)]
            except ValueError:
                raise FinbertUnavailable(f"{file}: label ids must be 0, 1, 2 ... (got {sorted(data)})") from None
            if sorted(map(int, data)) != list(range(len(data))):
                raise FinbertUnavailable(f"{file}: label ids must be 0, 1, 2 ... (got {sorted(data)})")
            data = ordered
        if not isinstance(data, list) or not data:
            raise FinbertUnavailable(f"{file}: the label map must be a list or an id -> label object")
        unknown = [label for label in data if str(label).lower() not in STANCE_OF]
        if unknown:
            raise FinbertUnavailable(f"{file}: labels {unknown} are not positive, negative or neutral "
                                     f"(name them in labels.json)")
        return [STANCE_OF[str(label).lower()] for label in data]
    raise FinbertUnavailable(f"{path}: no label map (labels.json, or config.json with id2label)")


_lock = threading.Lock()
_loaded: dict[tuple, Classifier] = {}


def classifier() -> Classifier:
    """The model at NT_FINBERT_PATH, loaded once per process (again if its files change)."""
    path = Path(settings.FINBERT_PATH).expanduser()
    try:
        stamp = tuple((path / name).stat().st_mtime_ns for name in FILES)
    except OSError:
        stamp = None
    key = (str(path), stamp, settings.FINBERT_MAX_TOKENS, settings.FINBERT_THREADS)
    with _lock:
        if key not in _loaded:
            _loaded.clear()
            _loaded[key] = Classifier(path, max_tokens=settings.FINBERT_MAX_TOKENS, threads=settings.FINBERT_THREADS)
        return _loaded[key]


def is_enabled() -> bool:
    """Do analyses made without an LLM use the model? (switch on and NT_FINBERT_PATH set)"""
    return bool(settings.FINBERT_PATH) and flags.is_enabled("finbert_sentiment")


def sentences(title: str, summary: str = "") -> list[str]:
    """What is classified: the title, then the summary's first MAX_SENTENCES sentences."""
    parts = [s.strip() for s in _SENTENCE.split(summary or "") if s.strip()][:MAX_SENTENCES]
    return [title.strip() or (parts[0] if parts else "")] + parts


def combine(predictions: list[Prediction]) -> Prediction:
    """One stance from a text's sentences: probabilities averaged, the title (first) counting twice."""
    weights = [2.0] + [1.0] * (len(predictions) - 1)
    total = sum(weights)
    probabilities = {stance: sum(w * p.probabilities[stance] for w, p in zip(weights, predictions, strict=True))
                     / total for stance in predictions[0].probabilities}
    return Prediction(max(probabilities, key=probabilities.get), probabilities)


def analyze(title: str, summary: str = "", ticker_min_confidence: float = offline.DEFAULT_TICKER_MIN_CONFIDENCE,
            *, prediction: Prediction | None = None) -> AnalysisResult:
    """The plan with the model's stance. `prediction` (from `predict_many`) skips the model call."""
    model = classifier()
    if prediction is None:
        prediction = combine(model.predict(sentences(title, summary), batch_size=settings.FINBERT_BATCH))
    return offline.build(title, summary, prediction.stance, min(0.95, prediction.confidence), provider="finbert",
                         model=f"finbert:{model.name}"[:100], ticker_min_confidence=ticker_min_confidence,
                         extra={"finbert": {k: round(v, 4) for k, v in prediction.probabilities.items()}})


def predict_many(texts: list[tuple[str, str]]) -> list[Prediction]:
    """Stances for many (title, summary) pairs, their sentences classified together in batches."""
    chunks = [sentences(title, summary) for title, summary in texts]
    flat = classifier().predict([s for chunk in chunks for s in chunk], batch_size=settings.FINBERT_BATCH)
    out, at = [], 0
    for chunk in chunks:
        out.append(combine(flat[at:at + len(chunk)]))
        at += len(chunk)
    return out
