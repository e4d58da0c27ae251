"""Did the signal's features predict the move? A scikit-learn model of P(excess return > 0 after 5
sessions), trained walk-forward on the signals that have outcomes, calibrated, and compared with a
naive baseline (a logistic fit of the score alone).

- Features (FEATURES): the score and its parts (sentiment, magnitude, novelty, source credibility, raw),
  the analyser's confidence, the stance, the catalyst, and from the symbol's daily bars known at the
  signal's time (apps/markets/volatility.py): liquidity (log median dollar volume) and recent
  volatility (the EWMA forecast).
- Walk-forward: the signals, oldest first, are cut into folds + 1 blocks; each block after the first is
  predicted by a model fitted on the blocks before it only. AUC, Brier score and the calibration table
  come from those out-of-sample predictions.
- Calibrated: every fitted model is wrapped in sigmoid calibration over time-ordered splits.
- `advanced_ml` on: a HistGradientBoosting model competes with the logistic one and is kept only if its
  walk-forward AUC is higher. The stored model is fitted on all the signals, and becomes the active
  one only if it beats the baseline out of sample (otherwise it is stored inactive, and says why).
- `ml_predictions` on: new signals carry `predicted_up` and `model_version`.
- `time_series_forecasting` on: new signals carry `expected_move` (the 1-session 1-sigma move, %).

scikit-learn and joblib are imported where a model is fitted or loaded, not with this module: every
worker imports it (signals_from_analysis), and scikit-learn takes 1.5 s to import.
"""

import io
import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import structlog
from django.db import transaction
from django.utils import timezone

from apps import flags
from apps.articles.models import CatalystType
from apps.markets.volatility import History
from apps.signals.models import OutcomeStatus, PredictionModel, Signal, SignalOutcome
from apps.signals.outcomes import STANCE_SIGN

logger = structlog.get_logger(__name__)

HORIZON = 5
CATALYSTS = [choice.value for choice in CatalystType]
FEATURES = (["score", "sentiment", "magnitude", "novelty", "credibility", "raw", "confidence", "stance",
             "log_dollar_volume", "volatility"] + [f"catalyst_{name}" for name in CATALYSTS])
MIN_SAMPLES = 200


class NotEnoughData(Exception):
    pass


# --- features --------------------------------------------------------------------------------

def feature_row(*, score: float, features: dict, stance: str, catalyst: str | None, sigma: float | None,
                dollar_volume: float | None) -> list[float]:
    """One signal's features in FEATURES order; NaN where unknown (imputed by the models)."""
    def part(name: str) -> float:
        value = features.get(name)
        return float(value) if isinstance(value, int | float) else math.nan

    return ([float(score), part("sentiment"), part("magnitude"), part("novelty"), part("credibility"), part("raw"),
             part("confidence"), float(STANCE_SIGN.get(stance, 0)),
             math.log10(dollar_volume) if dollar_volume else math.nan, sigma if sigma is not None else math.nan]
            + [1.0 if catalyst == name else 0.0 for name in CATALYSTS])


@dataclass
class Dataset:
    X: np.ndarray
    y: np.ndarray
    t: list[datetime]

    def __len__(self):
        return len(self.y)


def dataset(*, horizon: int = HORIZON, since: datetime | None = None, limit: int | None = None) -> Dataset:
    """Every signal with an outcome at `horizon`, oldest first: its features, and whether its excess
    return was positive. `limit`: only the newest that many."""
    outcomes = SignalOutcome.objects.filter(horizon=horizon, status=OutcomeStatus.OK, excess_ret__isnull=False)
    if since is not None:
        outcomes = outcomes.filter(signal__t__gte=since)
    if limit:
        newest = outcomes.order_by("-signal__t").values_list("signal__t", flat=True)[limit - 1:limit]
        cutoff = next(iter(newest), None)
        if cutoff is not None:
            outcomes = outcomes.filter(signal__t__gte=cutoff)
    rows = list(outcomes.order_by("signal__t", "signal_id").values_list(
        "signal__symbol", "signal__t", "signal__score", "signal__features", "signal__stance",
        "signal__article__analysis__catalyst_type", "excess_ret").iterator(chunk_size=5000))
    if not rows:
        return Dataset(np.empty((0, len(FEATURES))), np.empty(0, dtype=int), [])
    history = History.load({row[0] for row in rows}, rows[0][1], rows[-1][1])
    matrix, target = [], []
    for symbol, t, score, features, stance, catalyst, excess in rows:
        stats = history.stats_at(symbol, t)
        matrix.append(feature_row(score=score, features=features or {}, stance=stance, catalyst=catalyst,
                                  sigma=stats.sigma, dollar_volume=stats.dollar_volume))
        target.append(1 if excess > 0 else 0)
    return Dataset(np.array(matrix, dtype=float), np.array(target, dtype=int), [row[1] for row in rows])


# --- models ----------------------------------------------------------------------------------

def _imputer():
    """Unknown values (a symbol without bars) as the median, flagged in a column of their own; a feature
    unknown everywhere becomes zeros (HistGradientBoosting's own NaN handling fails on those)."""
    from sklearn.impute import SimpleImputer

    return SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True)


def _logistic():
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(_imputer(), StandardScaler(), LogisticRegression(max_iter=1000))


def _gradient_boosting():
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.pipeline import make_pipeline

    return make_pipeline(_imputer(), HistGradientBoostingClassifier(
        max_iter=150, learning_rate=0.05, max_leaf_nodes=15, l2_regularization=1.0, random_state=0))


class ScoreOnly:
    """The naive baseline: a calibrated logistic fit of the score alone (column 0)."""

    def __init__(self):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.model = make_pipeline(StandardScaler(), LogisticRegression())

    def fit(self, X, y):
        self.model.fit(X[:, :1], y)
        return self

    def predict_proba(self, X):
        return self.model.predict_proba(X[:, :1])


def fitted(kind: str, X: np.ndarray, y: np.ndarray):
    """A model of `kind` fitted on (X, y), calibrated (sigmoid, over time-ordered splits) when there is
    enough of both classes to calibrate."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.model_selection import TimeSeriesSplit

    if kind == "baseline":
        return ScoreOnly().fit(X, y)
    estimator = _gradient_boosting() if kind == PredictionModel.Kind.GRADIENT_BOOSTING else _logistic()
    if len(y) >= 150 and min(np.bincount(y, minlength=2)) >= 20:
        return CalibratedClassifierCV(estimator, method="sigmoid", cv=TimeSeriesSplit(n_splits=3)).fit(X, y)
    return estimator.fit(X, y)


@dataclass
class Evaluation:
    kind: str
    auc: float | None
    brier: float
    n: int
    calibration: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"kind": self.kind, "auc": self.auc, "brier": self.brier, "n": self.n, "calibration": self.calibration}


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """Per tenth of predicted probability: how many, the mean prediction, how often it went up."""
    table = []
    which = np.minimum((p * bins).astype(int), bins - 1)
    for b in range(bins):
        mask = which == b
        if mask.any():
            table.append({"bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "n": int(mask.sum()),
                          "predicted": round(float(p[mask].mean()), 4), "observed": round(float(y[mask].mean()), 4)})
    return table


def walk_forward(kind: str, data: Dataset, folds: int = 5) -> Evaluation:
    """Out-of-sample predictions of every block after the first, each from a model fitted on the blocks
    before it only."""
    from sklearn.metrics import brier_score_loss, roc_auc_score

    edges = np.linspace(0, len(data), folds + 2).astype(int)
    truth, predicted = [], []
    for k in range(1, folds + 1):
        train, test = slice(0, edges[k]), slice(edges[k], edges[k + 1])
        if len(set(data.y[train])) < 2 or edges[k + 1] == edges[k]:
            continue  # a model needs both outcomes to learn from
        model = fitted(kind, data.X[train], data.y[train])
        truth.append(data.y[test])
        predicted.append(model.predict_proba(data.X[test])[:, 1])
    if not truth:
        raise NotEnoughData("no walk-forward fold had both outcomes to train on")
    y, p = np.concatenate(truth), np.concatenate(predicted)
    auc = float(roc_auc_score(y, p)) if len(set(y)) == 2 else None
    return Evaluation(kind=kind, auc=None if auc is None else round(auc, 4),
                      brier=round(float(brier_score_loss(y, p)), 4), n=len(y), calibration=calibration_table(y, p))


@dataclass
class TrainReport:
    samples: int
    baseline: Evaluation
    candidates: list[Evaluation]
    winner: Evaluation
    beats_baseline: bool
    model: PredictionModel | None = None

    def as_dict(self) -> dict:
        return {"samples": self.samples, "baseline": self.baseline.as_dict(),
                "candidates": [c.as_dict() for c in self.candidates], "winner": self.winner.kind,
                "beats_baseline": self.beats_baseline,
                "version": self.model.version if self.model else None,
                "active": self.model.active if self.model else None}


def _better(a: Evaluation, b: Evaluation) -> bool:
    return (a.auc or 0.0) > (b.auc or 0.0)


def train(*, horizon: int = HORIZON, folds: int = 5, since: datetime | None = None, limit: int | None = None,
          advanced: bool | None = None, min_samples: int = MIN_SAMPLES, store: bool = True,
          progress=lambda message: None) -> TrainReport:
    """Evaluate walk-forward, then fit the winner on everything and store it (active if it beat the
    baseline). `advanced` (default: the advanced_ml switch) lets gradient boosting compete. `progress`
    hears each step as it starts."""
    progress("reading the signals with outcomes and their bars")
    data = dataset(horizon=horizon, since=since, limit=limit)
    if len(data) < min_samples:
        raise NotEnoughData(f"{len(data)} signals have a {horizon}-session outcome; at least {min_samples} are needed "
                            f"(import prices and run backfill_outcomes first)")
    if len(set(data.y)) < 2:
        raise NotEnoughData("every outcome went the same way: there is nothing to learn")
    if advanced is None:
        advanced = flags.is_enabled("advanced_ml")
    progress(f"walk-forward over {len(data)} signals: the baseline (score alone)")
    baseline = walk_forward("baseline", data, folds)
    progress("walk-forward: logistic regression")
    candidates = [walk_forward(PredictionModel.Kind.LOGISTIC, data, folds)]
    if advanced:
        progress("walk-forward: gradient boosting (about a minute per 100,000 signals)")
        candidates.append(walk_forward(PredictionModel.Kind.GRADIENT_BOOSTING, data, folds))
    winner = max(candidates, key=lambda c: ((c.auc or 0.0), -candidates.index(c)))  # a tie keeps the logistic
    report = TrainReport(samples=len(data), baseline=baseline, candidates=candidates, winner=winner,
                         beats_baseline=_better(winner, baseline))
    if store:
        progress(f"fitting {winner.kind} on all {len(data)} signals")
        estimator = fitted(winner.kind, data.X, data.y)
        import joblib

        buffer = io.BytesIO()
        joblib.dump(estimator, buffer)
        version = f"{winner.kind}-{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}"
        with transaction.atomic():
            report.model = PredictionModel.objects.create(
                version=version, kind=winner.kind, horizon=horizon, features=FEATURES,
                samples=len(data), trained_until=data.t[-1], metrics=report.as_dict(), blob=buffer.getvalue(),
                active=report.beats_baseline)
            if report.beats_baseline:
                PredictionModel.objects.exclude(pk=report.model.pk).filter(active=True).update(active=False)
        logger.info("signal_model_trained", version=report.model.version, auc=winner.auc, baseline_auc=baseline.auc,
                    active=report.model.active)
    return report


# --- predicting ------------------------------------------------------------------------------

_loaded: dict[int, object] = {}


def active_model() -> tuple[PredictionModel, object] | None:
    """The active model and its estimator (loaded once per process and version)."""
    row = PredictionModel.objects.filter(active=True).defer("blob", "metrics").first()
    if row is None:
        return None
    if row.pk not in _loaded:
        if row.features != FEATURES:
            logger.warning("signal_model_stale", version=row.version, reason="trained on other features")
            return None
        import joblib

        blob = PredictionModel.objects.values_list("blob", flat=True).get(pk=row.pk)
        _loaded[row.pk] = joblib.load(io.BytesIO(bytes(blob)))
    return row, _loaded[row.pk]


def annotate(signals: list[Signal], *, catalyst: str | None) -> None:
    """Set predicted_up / model_version (ml_predictions) and expected_move (time_series_forecasting) on
    these just-made signals, and save them. With both switches off it costs two flag checks: no
    savepoint, no query (it runs for every analysis)."""
    predict, forecast = flags.is_enabled("ml_predictions"), flags.is_enabled("time_series_forecasting")
    if not signals or not (predict or forecast):
        return
    with transaction.atomic():  # a savepoint: a failure here leaves the caller's transaction usable
        _annotate(signals, catalyst=catalyst, predict=predict, forecast=forecast)


def _annotate(signals: list[Signal], *, catalyst: str | None, predict: bool, forecast: bool) -> None:
    model = active_model() if predict else None
    history = History.load({s.symbol for s in signals}, min(s.t for s in signals), max(s.t for s in signals))
    rows = []
    for signal in signals:
        stats = history.stats_at(signal.symbol, signal.t)
        if forecast:
            signal.expected_move = None if stats.sigma is None else round(100 * stats.sigma, 3)
        if model is not None:
            row, estimator = model
            x = feature_row(score=signal.score, features=signal.features, stance=signal.stance, catalyst=catalyst,
                            sigma=stats.sigma, dollar_volume=stats.dollar_volume)
            signal.predicted_up = round(float(estimator.predict_proba(np.array([x]))[0, 1]), 4)
            signal.model_version = row.version
        rows.append(signal)
    Signal.objects.bulk_update(rows, ["predicted_up", "model_version", "expected_move"])
