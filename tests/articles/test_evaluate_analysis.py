"""The labelled evaluation set and `manage.py evaluate_analysis`: the shipped set parses, the report
counts what it should, and the offline analyser stays above the floors CI holds it to."""

import json

import pytest
from django.core.management import CommandError, call_command

from apps.articles import evaluation

# Floors set from our own measurements (README "Evaluation"); CI runs the command with the same ones.
FLOORS = {"min_precision": 0.95, "min_recall": 0.95, "min_accuracy": 0.85, "min_macro_f1": 0.85}


def test_the_shipped_set_is_at_least_400_labelled_sentences():
    examples = evaluation.load()
    assert len(examples) >= 400
    assert {e.stance for e in examples} == set(evaluation.STANCES)
    assert sum(1 for e in examples if e.tickers) >= 150 and sum(1 for e in examples if not e.tickers) >= 150


def test_the_offline_analyser_is_above_the_floors(capsys):
    call_command("evaluate_analysis", "--json", *[f"--{k.replace('_', '-')}={v}" for k, v in FLOORS.items()])
    report = json.loads(capsys.readouterr().out)
    assert report["sentences"] >= 400 and report["ms_per_sentence"] < 5


def test_the_report_counts_false_and_missed_tickers_and_the_confusion(tmp_path, capsys):
    labelled = tmp_path / "set.tsv"
    labelled.write_text("BULLISH\tAAPL\tApple (NASDAQ: AAPL) beats estimates and raises guidance\n"
                        "NEUTRAL\tMSFT\tThe company schedules its annual meeting\n"
                        "BEARISH\t\tTarget shares tumble after the retailer misses estimates\n")
    call_command("evaluate_analysis", "--set", str(labelled), "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["ticker_precision"] == 0.5 and report["ticker_recall"] == 0.5
    assert [f["symbol"] for f in report["false_tickers"]] == ["TGT"]
    assert [m["symbol"] for m in report["missed_tickers"]] == ["MSFT"]
    assert report["confusion"]["BULLISH"]["BULLISH"] == 1 and report["stance_accuracy"] == 1.0
    with pytest.raises(CommandError, match="below the floor: precision 0.500 < 0.9"):
        call_command("evaluate_analysis", "--set", str(labelled), "--min-precision", "0.9")


def test_a_bad_line_is_named(tmp_path):
    labelled = tmp_path / "bad.tsv"
    labelled.write_text("BULLISH\tAAPL\tfine\nHAPPY\t\tnot a stance\n")
    with pytest.raises(CommandError, match="bad.tsv:2: expected STANCE<tab>TICKERS<tab>TEXT"):
        call_command("evaluate_analysis", "--set", str(labelled))
