"""bot.nlu.grouped_cv: spelling twins share a fold, folds are stratified and reproducible."""

from collections import Counter
from pathlib import Path

import pytest
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.grouped_cv import group_key, grouped_folds, span_f1

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize(("text", "key"), [
    ("Xin chào!", "xin chao"),
    ("xin  chao", "xin chao"),
    ("Đúng rồi, cảm ơn", "dung roi cam on"),
    ("👍", "👍"),
])
def test_group_key(text, key):
    assert group_key(text) == key


def _split(data: TrainingData) -> list[tuple[list[str], list[str]]]:
    return [([m.get("text") for m in train.intent_examples],
             [m.get("text") for m in test.intent_examples])
            for train, test in grouped_folds(3, data)]


def test_twins_never_cross_folds_and_every_example_is_tested_once():
    data = load_data(str(ROOT / "data" / "nlu.yml"))
    folds = _split(data)
    tested = Counter(text for _, test in folds for text in test)
    assert sorted(tested) == sorted(m.get("text") for m in data.intent_examples)
    assert set(tested.values()) == {1}
    for train, test in folds:
        assert not {group_key(t) for t in train} & {group_key(t) for t in test}
    assert folds == _split(data)  # seeded: the same folds every run


def test_folds_are_stratified_by_intent():
    examples = [Message(data={"text": f"{intent} {i}", "intent": intent})
                for intent in ("greet", "goodbye") for i in range(9)]
    for _train, test in grouped_folds(3, TrainingData(training_examples=examples)):
        assert Counter(m.get("intent") for m in test.intent_examples) == {"greet": 3,
                                                                           "goodbye": 3}


def test_span_f1_counts_exact_spans_of_diet_only():
    gold = {"năm 2018 ở Quảng Bình": {("year", 4, 8), ("place", 12, 22)},
            "xin chào": set()}
    errors = [{"text": "năm 2018 ở Quảng Bình", "predicted_entities": [
        {"entity": "year", "start": 4, "end": 8, "extractor": "DIETClassifier"},
        {"entity": "place", "start": 12, "end": 17, "extractor": "DIETClassifier"},
        {"entity": "year", "start": 4, "end": 8, "extractor": "RegexEntityExtractor"},
    ]}]
    scores = span_f1(gold, errors)
    assert scores == {"place": 0.0, "year": 1.0, "micro": pytest.approx(0.5)}
    assert span_f1(gold, [])["micro"] == 1.0
