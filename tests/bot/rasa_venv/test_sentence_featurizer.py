"""bot.nlu.sentence_encoder / sentence_featurizer in the Rasa venv (numpy, no torch).

The reference vectors in tests/fixtures/nlu/e5-reference.json were computed in the knowledge
venv by ``SentenceTransformer("var/models/multilingual-e5-small").encode(...)``; the numpy forward
pass must reproduce them. The model folder is built by scripts/setup.sh (``kb build-model``).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.sentence_encoder import EncoderError, SentenceEncoder
from bot.nlu.sentence_featurizer import SentenceEmbeddingFeaturizer
from bot.nlu.underthesea_tokenizer import UnderTheSeaTokenizer

ROOT = Path(__file__).resolve().parents[3]
REFERENCE = json.loads((ROOT / "tests/fixtures/nlu/e5-reference.json").read_text("utf-8"))


@pytest.fixture(scope="module")
def tokenizer() -> UnderTheSeaTokenizer:
    return UnderTheSeaTokenizer({**UnderTheSeaTokenizer.get_default_config(),
                                 "word_segmentation": False})


def featurizer(**config) -> SentenceEmbeddingFeaturizer:
    return SentenceEmbeddingFeaturizer(
        {**SentenceEmbeddingFeaturizer.get_default_config(), **config},
        ExecutionContext(GraphSchema({}), node_name="sentence_featurizer"))


def message(tokenizer, text: str) -> Message:
    msg = Message({TEXT: text})
    tokenizer.process([msg])
    return msg


@pytest.mark.parametrize("backend", ["numpy", "onnx"])
def test_forward_pass_reproduces_sentence_transformers(backend):
    encoder = SentenceEncoder.load("var/models/multilingual-e5-small", backend=backend)
    assert encoder.backend == backend
    out = encoder.encode(REFERENCE["texts"], batch_size=3)  # two batches, padded
    cosine = (out.sentences * np.array(REFERENCE["vectors"])).sum(1)
    assert cosine.min() > 0.9999, cosine
    assert np.allclose(np.linalg.norm(out.sentences, axis=1), 1.0, atol=1e-5)
    for pieces, offsets in zip(out.pieces, out.offsets, strict=True):
        assert len(pieces) == len(offsets)


def test_the_default_backend_is_onnx_runtime_where_set_up_exported_the_graph():
    assert SentenceEncoder.load("var/models/multilingual-e5-small").backend == "onnx"
    assert featurizer().encoder.backend == "onnx"


def test_onnx_and_numpy_give_the_same_token_states():
    """A model trained with one backend runs with the other: the features are the same."""
    texts = ["query: chào bạn", "query: Năm 2018 Quảng Bình kiểm tra những đơn vị nào?",
             "query: con nam 2016 thi sao"]
    by_numpy = SentenceEncoder.load("var/models/multilingual-e5-small", backend="numpy")
    by_onnx = SentenceEncoder.load("var/models/multilingual-e5-small", backend="onnx")
    a, b = by_numpy.encode(texts, batch_size=2), by_onnx.encode(texts, batch_size=2, threads=1)
    assert np.allclose(a.sentences, b.sentences, atol=1e-5)
    for left, right in zip(a.pieces, b.pieces, strict=True):
        assert left.shape == right.shape and np.allclose(left, right, atol=1e-4)
    assert a.offsets == b.offsets


def test_auto_falls_back_to_numpy_without_the_graph_and_onnx_says_what_is_missing(tmp_path):
    source = ROOT / "var/models/multilingual-e5-small"
    for item in source.iterdir():
        if item.name != "onnx":
            (tmp_path / item.name).symlink_to(item)
    assert SentenceEncoder(tmp_path, backend="auto").backend == "numpy"
    with pytest.raises(EncoderError, match="kb build-model"):
        SentenceEncoder(tmp_path, backend="onnx")
    with pytest.raises(EncoderError, match="backend"):
        SentenceEncoder(tmp_path, backend="torch")


def test_padding_does_not_change_a_vector():
    encoder = SentenceEncoder.load("var/models/multilingual-e5-small")
    short = "query: chào bạn"
    alone = encoder.encode([short]).sentences[0]
    padded = encoder.encode([short, "query: " + "kế hoạch kiểm tra cải cách hành chính " * 5])
    assert np.allclose(alone, padded.sentences[0], atol=1e-5)


def test_features_for_every_token_and_the_sentence(tokenizer):
    msg = message(tokenizer, "năm 2018 Quảng Bình kiểm tra CCHC ở những đơn vị nào?")
    featurizer().process([msg])
    seq, sent = msg.get_dense_features(TEXT)
    tokens = msg.get(TOKENS_NAMES[TEXT])
    assert seq.features.shape == (len(tokens), 384) and seq.type == FEATURE_TYPE_SEQUENCE
    assert sent.features.shape == (1, 384) and sent.type == FEATURE_TYPE_SENTENCE
    assert all(row.any() for row in seq.features)  # every token covered by word pieces
    assert abs(np.linalg.norm(sent.features) - 1.0) < 1e-5


def test_sentence_feature_is_the_e5_query_vector(tokenizer):
    text = REFERENCE["texts"][2].removeprefix("query: ")
    msg = message(tokenizer, text)
    featurizer().process([msg])
    _, sent = msg.get_dense_features(TEXT)
    assert float(sent.features[0] @ np.array(REFERENCE["vectors"][2])) > 0.9999


def test_training_data_featurized_in_batches(tokenizer):
    texts = ["xin chào", "tạm biệt nhé", "kế hoạch CCHC năm 2018 của tỉnh Quảng Bình là gì?"]
    data = TrainingData([message(tokenizer, t) for t in texts])
    featurizer(batch_size=2).process_training_data(data)
    for example in data.training_examples:
        seq, sent = example.get_dense_features(TEXT)
        assert seq.features.shape[0] == len(example.get(TOKENS_NAMES[TEXT]))


def test_tokens_beyond_max_length_get_zeros(tokenizer):
    msg = message(tokenizer, "một hai ba bốn năm sáu bảy tám chín mười mười một mười hai")
    featurizer(max_length=8).process([msg])
    seq, _ = msg.get_dense_features(TEXT)
    assert seq.features[0].any() and not seq.features[-1].any()


def test_message_without_tokens_is_left_alone():
    msg = Message({TEXT: ""})
    featurizer().process([msg])
    assert msg.get_dense_features(TEXT) == (None, None)


def test_missing_model_folder_says_how_to_build_it():
    with pytest.raises(EncoderError, match="scripts/setup.sh"):
        SentenceEncoder.load("var/models/no-such-model")


def _features(msg):
    seq, sent = msg.get_dense_features(TEXT)
    return seq.features, sent.features


def test_a_repeated_message_is_served_from_the_cache_with_the_same_features(tokenizer):
    cached = featurizer()
    first, again = message(tokenizer, "Xin chào"), message(tokenizer, "Xin chào")
    cached.process([first])
    cached.process([again])
    assert (cached._cache.hits, cached._cache.misses) == (1, 1)
    uncached = featurizer(cache_size=0)
    plain = message(tokenizer, "Xin chào")
    uncached.process([plain])
    assert len(uncached._cache) == 0
    for a, b in zip(_features(again), _features(plain), strict=True):
        assert np.array_equal(a, b)
    # the cached arrays cannot be changed through a message's features
    assert not cached._cache.get("query: Xin chào")[0].flags.writeable


def test_the_cache_keeps_the_most_recent_texts_and_skips_training_data(tokenizer):
    small = featurizer(cache_size=2)
    for text in ("một", "hai", "một", "ba"):  # "hai" is the least recently used
        small.process([message(tokenizer, text)])
    assert len(small._cache) == 2
    assert small._cache.get("query: hai") is None and small._cache.get("query: một") is not None
    data = TrainingData([message(tokenizer, t) for t in ("bốn", "năm", "sáu")])
    small.process_training_data(data)
    assert small._cache.get("query: bốn") is None


def test_one_blas_thread_gives_the_same_features(tokenizer):
    text = "năm 2018 Quảng Bình kiểm tra CCHC ở những đơn vị nào?"
    one, unchanged = message(tokenizer, text), message(tokenizer, text)
    featurizer(inference_threads=1, cache_size=0).process([one])
    featurizer(inference_threads=0, cache_size=0).process([unchanged])
    for a, b in zip(_features(one), _features(unchanged), strict=True):
        assert np.allclose(a, b, atol=1e-5)


@pytest.mark.parametrize("key, value", [("inference_threads", -1), ("cache_size", "big"),
                                        ("cache_size", True), ("backend", "torch")])
def test_thread_and_cache_settings_are_validated(key, value):
    from rasa.shared.exceptions import InvalidConfigException

    config = {**SentenceEmbeddingFeaturizer.get_default_config(), key: value}
    with pytest.raises(InvalidConfigException, match=key):
        SentenceEmbeddingFeaturizer.validate_config(config)
