"""A tiny FinBERT-shaped model built inside the tests: a WordPiece tokenizer (`tokenizers`) and an ONNX
sequence classifier (`onnx`) whose logits are the sum, over the unmasked tokens, of a per-token score per
label. "rose", "beat", "good" push positive; "fell", "miss", "bad" negative; [CLS] gives neutral a head
start, so a text with none of those words is neutral. Nothing is downloaded."""

import json
from pathlib import Path

import numpy
import onnx
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
WORDS = ["the", "company", "profit", "net", "sales", "quarter", "said", "rose", "beat", "good", "fell", "miss",
         "bad", "##es", "##s", "##ed", "."]
PUSH = {"rose": "positive", "beat": "positive", "good": "positive", "fell": "negative", "miss": "negative",
        "bad": "negative", "[CLS]": "neutral"}
HF_ORDER = ["positive", "negative", "neutral"]  # ProsusAI/finbert's id2label


def build(directory: Path, *, order=HF_ORDER, label_file: str = "config.json", token_type_ids: bool = True) -> Path:
    """Write model.onnx, tokenizer.json and the label map (config.json's id2label or labels.json) for
    labels in `order`. Returns the directory."""
    directory.mkdir(parents=True, exist_ok=True)
    vocab = {token: i for i, token in enumerate(SPECIAL + WORDS)}
    tokenizer = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.BertNormalizer(lowercase=True)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tokenizer.save(str(directory / "tokenizer.json"))

    plain = [{"bullish": "positive", "bearish": "negative"}.get(label.lower(), label.lower()) for label in order]
    scores = numpy.zeros((len(vocab), len(order)), dtype=numpy.float32)
    for token, label in PUSH.items():
        scores[vocab[token], plain.index(label)] = 3.0 if label != "neutral" else 1.0
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])]
    if token_type_ids:  # declared like a BERT export's; this model does not need it
        inputs.append(helper.make_tensor_value_info("token_type_ids", TensorProto.INT64, ["batch", "tokens"]))
    graph = helper.make_graph(
        [helper.make_node("Gather", ["scores", "input_ids"], ["per_token"]),
         helper.make_node("Cast", ["attention_mask"], ["mask"], to=TensorProto.FLOAT),
         helper.make_node("Unsqueeze", ["mask", "last"], ["mask3"]),
         helper.make_node("Mul", ["per_token", "mask3"], ["masked"]),
         helper.make_node("ReduceSum", ["masked", "tokens_axis"], ["logits"], keepdims=0)],
        "tiny_finbert", inputs,
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", len(order)])],
        initializer=[numpy_helper.from_array(scores, "scores"),
                     numpy_helper.from_array(numpy.array([2], dtype=numpy.int64), "last"),
                     numpy_helper.from_array(numpy.array([1], dtype=numpy.int64), "tokens_axis")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(directory / "model.onnx"))

    if label_file == "config.json":
        (directory / "config.json").write_text(json.dumps({"id2label": {str(i): l for i, l in enumerate(order)}}))
    else:
        (directory / "labels.json").write_text(json.dumps(order))
    return directory
