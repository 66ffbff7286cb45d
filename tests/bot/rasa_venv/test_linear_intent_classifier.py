"""bot.nlu.linear_intent_classifier in the Rasa venv: trained on real pipeline features
(underthesea tokenizer, e5 sentence featurizer, CountVectorsFeaturizer), stored as arrays,
loaded back, and predicting intents with a confidence ranking."""

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.linear_intent_classifier import MODEL_FILE, LinearIntentClassifier
from bot.nlu.sentence_featurizer import SentenceEmbeddingFeaturizer
from bot.nlu.underthesea_tokenizer import UnderTheSeaTokenizer

EXAMPLES = {
    "greet": ["xin chào", "chào bạn", "chao ban", "hello", "chào buổi sáng", "alo có ai không"],
    "goodbye": ["tạm biệt", "hẹn gặp lại", "bye nhé", "tam biet ban", "mình đi đây, chào nhé",
                "thôi chào bạn nhé, hẹn hôm khác"],
    "ask_knowledge": ["năm 2018 kiểm tra cải cách hành chính ở những đơn vị nào",
                      "kế hoạch CCHC năm 2019 của Quảng Trị", "ai ký quyết định 1331/QĐ-UBND",
                      "mục tiêu cắt giảm báo cáo định kỳ là bao nhiêu", "nam 2016 kiem tra o dau",
                      "thời gian kiểm tra công vụ năm 2020"],
}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    storage = LocalModelStorage(tmp_path_factory.mktemp("storage"))
    context = ExecutionContext(GraphSchema({}), node_name="test")
    tokenizer = UnderTheSeaTokenizer({**UnderTheSeaTokenizer.get_default_config(),
                                      "word_segmentation": False})
    dense = SentenceEmbeddingFeaturizer(SentenceEmbeddingFeaturizer.get_default_config(),
                                        context)
    sparse = CountVectorsFeaturizer.create(CountVectorsFeaturizer.get_default_config(), storage,
                                           Resource("cvf"), context)

    def featurize(messages, train=False):
        tokenizer.process(messages)
        dense.process(messages)
        if train:
            sparse.train(TrainingData(messages))
        sparse.process(messages)
        return messages

    data = TrainingData(featurize([Message({TEXT: text, INTENT: intent})
                                   for intent, texts in EXAMPLES.items() for text in texts],
                                  train=True))
    resource = Resource("linear")
    classifier = LinearIntentClassifier.create(LinearIntentClassifier.get_default_config(),
                                               storage, resource, context)
    classifier.train(data)
    return storage, resource, context, classifier, featurize


def classify(classifier, featurize, text):
    message = featurize([Message({TEXT: text})])[0]
    classifier.process([message])
    return message


def test_predicts_intents_with_a_ranking_that_sums_to_one(pipeline):
    _, _, _, classifier, featurize = pipeline
    message = classify(classifier, featurize, "năm 2017 kiểm tra những sở nào?")
    assert message.get(INTENT)["name"] == "ask_knowledge"
    ranking = message.get(INTENT_RANKING_KEY)
    assert [r["name"] for r in ranking][0] == "ask_knowledge" and len(ranking) == 3
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0)
    assert classify(classifier, featurize, "chào bạn nhé").get(INTENT)["name"] in {"greet",
                                                                                  "goodbye"}
    assert classify(classifier, featurize, "tạm biệt bạn").get(INTENT)["name"] == "goodbye"


def test_stored_as_plain_arrays_and_loaded_back(pipeline):
    storage, resource, context, classifier, featurize = pipeline
    with storage.read_from(resource) as folder:
        with np.load(Path(folder) / MODEL_FILE, allow_pickle=False) as data:  # no pickle
            assert set(data.files) >= {"classes", "idf", "coef", "intercept"}
    loaded = LinearIntentClassifier.load(LinearIntentClassifier.get_default_config(), storage,
                                         resource, context)
    text = "kế hoạch cải cách hành chính năm 2018"
    a = classify(classifier, featurize, text).get(INTENT_RANKING_KEY)
    b = classify(loaded, featurize, text).get(INTENT_RANKING_KEY)
    assert a == b


def test_untrained_component_leaves_the_intent_empty(pipeline, tmp_path):
    _, _, context, _, featurize = pipeline
    storage = LocalModelStorage(tmp_path)
    empty = LinearIntentClassifier.load(LinearIntentClassifier.get_default_config(), storage,
                                        Resource("missing"), context)
    message = classify(empty, featurize, "xin chào")
    assert message.get(INTENT) == {"name": None, "confidence": 0.0}


def test_per_message_scores_equal_the_training_matrix_product(pipeline):
    """The fast per-message path computes exactly what the training features give."""
    _, _, _, classifier, featurize = pipeline
    texts = ["xin chào bạn", "năm 2018 kiểm tra cải cách hành chính ở đâu", "tạm biệt nhé",
             "quyết định 1331/QĐ-UBND do ai ký", "chào chào chào"]
    messages = featurize([Message({TEXT: t}) for t in texts])
    raw = [classifier._raw_features(m) for m in messages]
    matrix = classifier._matrix([r for r, _ in raw], [v for _, v in raw],
                                classifier.arrays["idf"])
    expected = np.asarray(matrix @ classifier.arrays["coef"].T) + classifier.arrays["intercept"]
    fast = np.vstack([classifier.scores(r, v) for r, v in raw])
    assert np.allclose(fast, expected, rtol=1e-10, atol=1e-10)
    probabilities = classifier.predict(messages)
    assert np.allclose(probabilities.sum(1), 1.0)
    assert list(probabilities.argmax(1)) == list(np.asarray(expected).argmax(1))
