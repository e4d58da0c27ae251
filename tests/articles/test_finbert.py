"""The FinBERT analyser behind the finbert_sentiment switch: a tiny ONNX classifier and WordPiece tokenizer
built in the test (tiny_finbert.py), run by the real ONNX Runtime and tokenizers."""

import json
import logging

import pytest
from django.core.management import CommandError, call_command

from apps.articles import analysis
from apps.articles.analysis import finbert
from apps.articles.analysis.llm import AnalysisRejected
from apps.articles.checks import finbert_model_files
from apps.articles.models import Analysis
from apps.flags import services as flags
from apps.jobs.enqueue import enqueue
from tests import factories
from tests.articles.tiny_finbert import build

pytestmark = pytest.mark.django_db


@pytest.fixture
def model(tmp_path, settings):
    settings.FINBERT_PATH = str(build(tmp_path / "tiny-finbert"))
    settings.LLM_BASE_URL = settings.LLM_API_KEY = ""
    return tmp_path / "tiny-finbert"


@pytest.fixture
def switched_on(model):
    flags.flag_set(name="finbert_sentiment", enabled=True)
    return model


def test_the_switch_is_registered_off():
    assert flags.flag_ensure(flags.spec_for("finbert_sentiment")).active is False


def test_loads_and_classifies_with_probabilities(model):
    classifier = finbert.classifier()
    rose, fell, plain = classifier.predict(["Net sales rose", "The company's profit fell", "The company said"])
    assert (rose.stance, fell.stance, plain.stance) == ("BULLISH", "BEARISH", "NEUTRAL")
    assert sum(rose.probabilities.values()) == pytest.approx(1.0)
    assert rose.confidence > 0.8 and plain.confidence < 0.6
    assert finbert.classifier() is classifier  # loaded once per process


def test_a_batch_gives_what_one_at_a_time_gives(model, settings):
    texts = ["rose", "The company said net sales fell in the quarter", "", "good good bad", "profit beat"]
    alone = [finbert.classifier().predict([t])[0] for t in texts]
    for batch_size in (2, 16):  # padded batches of mixed lengths, the padding masked
        together = finbert.classifier().predict(texts, batch_size=batch_size)
        assert [p.stance for p in together] == [p.stance for p in alone]
        assert [p.probabilities["BULLISH"] for p in together] == pytest.approx([p.probabilities["BULLISH"] for p in alone])


@pytest.mark.parametrize("order, label_file", [
    (["positive", "negative", "neutral"], "config.json"),  # a Hugging Face export's id2label
    (["neutral", "positive", "negative"], "labels.json"),
    (["Bearish", "Neutral", "Bullish"], "labels.json"),
])
def test_the_label_map_decides_what_each_logit_means(tmp_path, settings, order, label_file):
    settings.FINBERT_PATH = str(build(tmp_path / "m", order=order, label_file=label_file))
    rose, fell, plain = finbert.classifier().predict(["profit rose", "profit fell", "the quarter"])
    assert (rose.stance, fell.stance, plain.stance) == ("BULLISH", "BEARISH", "NEUTRAL")


def test_a_model_without_token_type_ids_is_fed_only_what_it_declares(tmp_path, settings):
    settings.FINBERT_PATH = str(build(tmp_path / "m", token_type_ids=False))
    assert finbert.classifier().predict(["sales fell"])[0].stance == "BEARISH"


def test_long_texts_are_truncated_to_max_tokens(model, settings):
    settings.FINBERT_MAX_TOKENS = 8  # [CLS] + 6 words + [SEP]
    late = "the company the company the company fell"  # "fell" is the 8th word: cut off
    early = "fell " + "the company " * 5000  # 10,001 words: no error, its start decides
    late_p, early_p = finbert.classifier().predict([late, early])
    assert (late_p.stance, early_p.stance) == ("NEUTRAL", "BEARISH")
    settings.FINBERT_MAX_TOKENS = 128
    assert finbert.classifier().predict([late])[0].stance == "BEARISH"


def test_missing_and_corrupt_models_are_named(tmp_path, settings):
    def error():
        with pytest.raises(finbert.FinbertUnavailable) as caught:
            finbert.classifier()
        return str(caught.value)

    settings.FINBERT_PATH = str(tmp_path / "nowhere")
    assert error() == f"NT_FINBERT_PATH={tmp_path / 'nowhere'}: no such directory"
    path = build(tmp_path / "m")
    settings.FINBERT_PATH = str(path)
    (path / "model.onnx").write_bytes(b"\x00not a model" * 100)
    assert error().startswith(f"{path / 'model.onnx'} is not a usable ONNX model: ")
    (path / "model.onnx").unlink()
    assert error().startswith(f"{path / 'model.onnx'} is missing")
    build(path)
    (path / "tokenizer.json").write_text("{broken")
    assert error().startswith(f"{path / 'tokenizer.json'} is not a tokenizers file")
    build(path)
    (path / "config.json").write_text(json.dumps({"id2label": {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"}}))
    assert "labels ['LABEL_0', 'LABEL_1', 'LABEL_2'] are not positive, negative or neutral" in error()
    (path / "config.json").write_text(json.dumps({"id2label": {"0": "positive", "1": "negative"}}))
    assert error() == f"{path / 'model.onnx'} returns logits of shape [1, 3], but the label map has 2 labels"
    (path / "config.json").unlink()
    assert error() == f"{path}: no label map (labels.json, or config.json with id2label)"


def test_the_system_check_names_missing_files(tmp_path, settings):
    settings.FINBERT_PATH = ""
    assert finbert_model_files() == []
    settings.FINBERT_PATH = str(tmp_path)
    [warning] = finbert_model_files()
    assert warning.msg == (f"NT_FINBERT_PATH={tmp_path} lacks model.onnx, tokenizer.json, "
                           "labels.json (or config.json with id2label)")
    settings.FINBERT_PATH = str(build(tmp_path / "ok"))
    assert finbert_model_files() == []


def test_switched_off_analyses_stay_offline(model):
    assert analysis.analyze("Net sales rose").provider == "offline"
    with pytest.raises(AnalysisRejected, match="switch finbert_sentiment on"):
        analysis.analyze("Net sales rose", provider="finbert")


def test_switched_on_the_model_decides_the_stance_and_is_recorded(switched_on):
    result = analysis.analyze("Apple (NASDAQ: AAPL) said its quarter was bad", "Sales fell. Profit fell.")
    assert (result.provider, result.model) == ("finbert", "finbert:tiny-finbert")
    assert result.plan["stance"] == "BEARISH" and result.plan["tickers"] == ["AAPL"]  # the rules still find tickers
    assert result.plan["confidence"] == pytest.approx(result.extra["finbert"]["BEARISH"], abs=1e-3)
    # "offline" means "no LLM": the model, when switched on
    assert analysis.analyze("profit rose", provider="offline").provider == "finbert"


@pytest.mark.django_db(transaction=True)  # a worker thread runs the job
def test_the_pipeline_records_finbert_analyses(switched_on, broker, run_jobs):
    article = factories.article("Acme's quarterly profit rose", "Net sales rose. The company said so.")
    enqueue("analyze_article", article.pk)
    run_jobs()
    stored = Analysis.objects.get(article=article)
    assert (stored.provider, stored.model, stored.stance) == ("finbert", "finbert:tiny-finbert", "BULLISH")


def test_a_broken_model_falls_back_to_the_rules_and_says_so(switched_on, caplog):
    (switched_on / "model.onnx").write_bytes(b"garbage")
    with caplog.at_level(logging.ERROR):
        result = analysis.analyze("Net sales rose")
    assert result.provider == "offline"
    assert "finbert_unavailable" in caplog.text and "model.onnx is not a usable ONNX model" in caplog.text
    with pytest.raises(AnalysisRejected, match="is not a usable ONNX model"):
        analysis.analyze("Net sales rose", provider="finbert")


def test_evaluate_analysis_with_finbert(model, tmp_path, capsys):
    labelled = tmp_path / "set.tsv"
    labelled.write_text("BULLISH\t\tNet sales rose\nBEARISH\t\tProfit fell\nNEUTRAL\t\tThe company said\n"
                        "BULLISH\t\tThe quarter was bad\n")
    call_command("evaluate_analysis", "--set", str(labelled), "--provider", "finbert", "--json")
    report = json.loads(capsys.readouterr().out)
    assert report["provider"] == "finbert" and report["sentences"] == 4
    assert report["stance_accuracy"] == 0.75
    assert report["confusion"]["BULLISH"] == {"BULLISH": 1, "BEARISH": 1, "NEUTRAL": 0}


def test_commands_refuse_finbert_when_it_cannot_run(settings, tmp_path):
    settings.FINBERT_PATH = ""
    with pytest.raises(CommandError, match="set NT_FINBERT_PATH"):
        call_command("evaluate_analysis", "--provider", "finbert")
    settings.FINBERT_PATH = str(tmp_path)
    with pytest.raises(CommandError, match="model.onnx is missing"):
        call_command("evaluate_analysis", "--provider", "finbert")
    with pytest.raises(CommandError, match="switch finbert_sentiment on"):
        call_command("backfill_analysis", "--provider", "finbert")
