"""The prediction flags: the model's walk-forward train and predict path on synthetic data where the
features predict the move and where they do not; train_signal_model end to end on the database; what
ml_predictions and time_series_forecasting add to new signals and outcomes; the EWMA forecast."""

import io
import json
import math
import random
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from apps.flags import services as flags
from apps.markets import calendar, services
from apps.markets.providers import Bar
from apps.markets.volatility import History, ewma_sigma
from apps.signals import predictions
from apps.signals.models import OutcomeStatus, PredictionModel, Signal, SignalOutcome
from apps.signals.outcomes import outcomes_compute
from tests import factories

SESSIONS = calendar.sessions(date(2026, 9, 1), date(2026, 12, 1))
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


# --- the model, on synthetic data (no database) ------------------------------------------------

def synthetic(n: int, predictive: bool, seed: int = 1) -> predictions.Dataset:
    """Rows in FEATURES order. Predictive: the sentiment (not the score) drives the move."""
    rng = np.random.default_rng(seed)
    X = np.zeros((n, len(predictions.FEATURES)))
    X[:, 0] = rng.uniform(20, 80, n)  # score: unrelated noise
    X[:, 1] = rng.uniform(-1, 1, n)  # sentiment
    X[:, 8] = np.nan  # liquidity unknown: imputed
    X[:, 9] = rng.uniform(0.01, 0.03, n)
    drift = 1.5 * X[:, 1] if predictive else 0.0
    y = (drift + rng.normal(size=n) > 0).astype(int)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    return predictions.Dataset(X, y, [start + timedelta(hours=i) for i in range(n)])


def test_walk_forward_finds_a_real_signal_and_beats_the_score_alone():
    data = synthetic(1500, predictive=True)
    model = predictions.walk_forward("logistic", data)
    baseline = predictions.walk_forward("baseline", data)
    assert model.auc > 0.75  # the sentiment really predicts the move
    assert abs(baseline.auc - 0.5) < 0.06  # the score is noise here
    assert model.brier < baseline.brier
    assert model.n == 1500 - 1500 // 6  # every block but the first predicted out of sample
    # calibrated: in every well-filled bin the predicted rate is near the observed one
    assert all(abs(row["predicted"] - row["observed"]) < 0.12 for row in model.calibration if row["n"] >= 60)


def test_walk_forward_on_noise_is_a_coin_flip():
    data = synthetic(1500, predictive=False, seed=2)
    for kind in ("logistic", "hgb"):
        assert abs(predictions.walk_forward(kind, data).auc - 0.5) < 0.06


def test_walk_forward_never_trains_on_the_future():
    """A model that memorises its training rows scores perfectly only on rows it saw; walk-forward
    predictions of later blocks are therefore never perfect when the labels are noise."""
    data = synthetic(600, predictive=False, seed=3)
    data.X[:, 2] = np.arange(600)  # a column that identifies each row (and time)
    evaluation = predictions.walk_forward("hgb", data)
    assert evaluation.auc < 0.65


def test_feature_row_marks_the_unknown_and_the_catalyst():
    row = predictions.feature_row(score=70, features={"sentiment": 0.5, "credibility": 0.8}, stance="BEARISH",
                                  catalyst="EARNINGS", sigma=None, dollar_volume=1e6)
    named = dict(zip(predictions.FEATURES, row, strict=True))
    assert named["score"] == 70 and named["sentiment"] == 0.5 and named["stance"] == -1.0
    assert math.isnan(named["novelty"]) and math.isnan(named["volatility"])
    assert named["log_dollar_volume"] == pytest.approx(6.0)
    assert named["catalyst_EARNINGS"] == 1.0 and named["catalyst_FDA"] == 0.0


# --- the EWMA forecast --------------------------------------------------------------------------

def test_ewma_sigma_of_steady_one_percent_moves_is_one_percent():
    closes = [100.0]
    for i in range(40):
        closes.append(closes[-1] * (1.01 if i % 2 else 0.99))
    assert ewma_sigma(closes) == pytest.approx(0.01, rel=0.01)
    assert ewma_sigma(closes[:10]) is None  # too few returns to say


def test_ewma_reacts_to_a_shock():
    calm = [100.0]
    for i in range(40):
        calm.append(calm[-1] * (1.001 if i % 2 else 0.999))
    shocked = calm + [calm[-1] * 0.9]
    assert ewma_sigma(shocked) > 3 * ewma_sigma(calm)


# --- on the database ------------------------------------------------------------------------------

def series(symbol, closes, volume=1000):
    bars = [Bar(symbol=symbol, session=session, open=c, high=c * 1.01, low=c * 0.99, close=c, adj_close=c,
                volume=volume) for session, c in zip(SESSIONS, closes, strict=False)]
    assert not services.bars_store(bars, source="test").rejected


@pytest.mark.django_db
def test_history_uses_only_bars_closed_at_the_moment():
    rng = random.Random(4)
    closes = [100.0]
    for _ in SESSIONS[1:]:
        closes.append(closes[-1] * (1 + rng.gauss(0, 0.01)))
    closes[40] = closes[39] * 1.2  # a jump on session 40
    series("ACME", closes)
    history = History.load(["ACME"], calendar.session_close(SESSIONS[30]), NOW)
    close_40 = calendar.session_close(SESSIONS[40])
    before = history.stats_at("ACME", close_40 - timedelta(minutes=1))  # session 40 had not closed
    at_close = history.stats_at("ACME", close_40)
    assert before.sigma == pytest.approx(ewma_sigma(closes[:40]))
    assert at_close.sigma > 2 * before.sigma
    assert before.dollar_volume == pytest.approx(sorted(c * 1000 for c in closes[20:40])[9:11][0], rel=0.2)
    assert history.stats_at("NOPE", close_40).sigma is None


def labelled_signals(n: int, predictive: bool, seed: int = 5) -> None:
    """n signals with 5-session outcomes: predictive, the sentiment says which way the move goes."""
    rng = random.Random(seed)
    start = datetime(2025, 1, 2, 15, tzinfo=UTC)
    signals = []
    for i in range(n):
        sentiment = rng.uniform(-1, 1)
        signals.append(Signal(symbol=f"S{i % 7}", t=start + timedelta(hours=7 * i), score=rng.uniform(30, 70),
                              label="Watch", stance="BULLISH" if sentiment > 0 else "BEARISH",
                              features={"sentiment": sentiment, "magnitude": rng.random(), "novelty": 1.0,
                                        "credibility": 0.6, "raw": 0.0, "confidence": 0.7}))
    signals = Signal.objects.bulk_create(signals)
    outcomes = []
    for signal in signals:
        drift = 0.02 * signal.features["sentiment"] if predictive else 0.0
        excess = drift + rng.gauss(0, 0.02)
        outcomes.append(SignalOutcome(signal=signal, horizon=5, status=OutcomeStatus.OK, entry_t=signal.t,
                                      exit_t=signal.t + timedelta(days=7), ret=excess, benchmark_ret=0.0,
                                      excess_ret=excess))
    SignalOutcome.objects.bulk_create(outcomes)


def train(*args, err: io.StringIO | None = None) -> str:
    out = io.StringIO()
    call_command("train_signal_model", *args, stdout=out, stderr=err or io.StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_train_signal_model_reports_stores_and_activates_a_model_that_beats_the_baseline():
    labelled_signals(600, predictive=True)
    progress = io.StringIO()
    out = train(err=progress)
    assert "walk-forward over 600 signals" in progress.getvalue() and "fitting logistic on all" in progress.getvalue()
    assert "600 signals, 5 walk-forward folds" in out
    assert "baseline" in out and "logistic" in out and "winner: logistic" in out
    assert "calibration, logistic: predicted -> observed" in out
    model = PredictionModel.objects.get()
    assert model.active and model.kind == "logistic" and model.samples == 600
    assert model.metrics["candidates"][0]["auc"] > 0.7 > model.metrics["baseline"]["auc"]
    assert f"Stored {model.version}: active" in out


@pytest.mark.django_db
def test_advanced_ml_lets_gradient_boosting_compete_and_says_who_won():
    labelled_signals(600, predictive=True)
    flags.flag_set(name="advanced_ml", enabled=True)
    report = json.loads(train("--json"))
    kinds = [c["kind"] for c in report["candidates"]]
    assert kinds == ["logistic", "hgb"]
    best = max(report["candidates"], key=lambda c: c["auc"])
    assert report["winner"] == best["kind"]
    assert PredictionModel.objects.get(version=report["version"]).kind == report["winner"]


@pytest.mark.django_db
def test_a_model_that_does_not_beat_the_baseline_is_stored_inactive():
    labelled_signals(400, predictive=True, seed=6)
    train()
    first = PredictionModel.objects.get(active=True)
    Signal.objects.all().delete()
    labelled_signals(400, predictive=False, seed=7)
    out = train()
    second = PredictionModel.objects.exclude(pk=first.pk).get()
    if not second.active:  # (noise may, rarely, beat noise by a hair: then it is active, as it should be)
        assert "inactive: its AUC does not beat the score alone" in out
        assert PredictionModel.objects.get(active=True) == first


@pytest.mark.django_db
def test_too_few_signals_is_a_clear_error_and_a_dry_run_stores_nothing():
    labelled_signals(50, predictive=True)
    with pytest.raises(CommandError, match="50 signals have a 5-session outcome; at least 200 are needed"):
        train()
    assert "Dry run: no model stored." in train("--min-samples", "40", "--folds", "2", "--dry-run")
    assert not PredictionModel.objects.exists()
    with pytest.raises(CommandError, match="--folds must be at least 2"):
        train("--folds", "1")


@pytest.mark.django_db
def test_with_the_flags_on_new_signals_carry_a_prediction_and_an_expected_move(
        client, viewer, django_capture_on_commit_callbacks):
    labelled_signals(400, predictive=True)
    train()
    version = PredictionModel.objects.get(active=True).version
    closes = [100.0 * (1.01 if i % 2 else 0.99) ** (i % 2) for i in range(len(SESSIONS))]  # +-1 % a day
    series("AAPL", closes)
    published = calendar.session_close(SESSIONS[-1]) + timedelta(hours=1)

    factories.article("Apple (NASDAQ: AAPL) beats estimates and raises guidance", published_at=published - timedelta(days=1),
                      analyse=True)
    before = Signal.objects.get(symbol="AAPL")
    assert before.predicted_up is None and before.model_version == "" and before.expected_move is None  # flags off

    with django_capture_on_commit_callbacks(execute=True):  # the switches' cached rows go when this commits
        flags.flag_set(name="ml_predictions", enabled=True)
        flags.flag_set(name="time_series_forecasting", enabled=True)
    factories.article("Apple (NASDAQ: AAPL) raises its dividend and buyback", published_at=published, analyse=True)
    made = Signal.objects.get(symbol="AAPL", t=published)
    assert 0 < made.predicted_up < 1 and made.model_version == version
    assert made.expected_move == pytest.approx(1.0, abs=0.1)  # the 1 % daily moves of its bars

    client.force_login(viewer)
    shown = {row["t"][:16]: row for row in client.get("/api/v1/signals/?symbol=AAPL").json()["results"]}
    row = shown[published.strftime("%Y-%m-%dT%H:%M")]
    assert (row["predicted_up"], row["model_version"], row["expected_move"]) == (
        made.predicted_up, version, made.expected_move)


@pytest.mark.django_db
def test_a_broken_model_costs_the_prediction_not_the_signal(caplog):
    labelled_signals(300, predictive=True)
    train()
    PredictionModel.objects.update(blob=b"not a model")
    predictions._loaded.clear()
    flags.flag_set(name="ml_predictions", enabled=True)
    factories.article("Apple (NASDAQ: AAPL) beats estimates and raises guidance", analyse=True)
    made = Signal.objects.get(symbol="AAPL")
    assert made.predicted_up is None and made.score > 0
    assert "signal_predictions_failed" in caplog.text


@pytest.mark.django_db
def test_outcomes_in_sigmas_with_time_series_forecasting():
    series("SPY", [100.0] * len(SESSIONS))
    closes = [100.0 * (1.02 if i % 2 else 1.0) for i in range(len(SESSIONS))]  # +-2 % moves
    closes[-10:] = [closes[-11] * 1.04 ** (k + 1) for k in range(10)]  # then a run up
    series("ACME", closes)
    t = calendar.session_close(SESSIONS[-11]) + timedelta(minutes=1)
    flags.flag_set(name="time_series_forecasting", enabled=True)
    signal = Signal.objects.create(symbol="ACME", t=t, score=70, label="Opportunity", stance="BULLISH")
    outcomes_compute(signals=[signal], now=NOW)
    one = SignalOutcome.objects.get(signal=signal, horizon=1)
    sigma = ewma_sigma(closes[:len(SESSIONS) - 10])
    assert one.excess_ret == pytest.approx(0.04)
    assert one.excess_sigma == pytest.approx(0.04 / sigma)
    five = SignalOutcome.objects.get(signal=signal, horizon=5)
    assert five.excess_sigma == pytest.approx(five.excess_ret / (sigma * math.sqrt(5)))
