"""``rasa test nlu --cross-validation`` with spelling twins kept in the same fold.

The training data holds many pairs such as "xin chào" / "xin chao": the same sentence with and
without diacritics. The underthesea tokenizer gives both the same lemmas ("xin chao"), so for the
featurizers they are one example. Rasa's own cross-validation (``StratifiedKFold``, unseeded)
puts the twins in different folds, and the held-out one is then scored on a sentence the model
was trained on. This wrapper replaces ``rasa.nlu.test.generate_folds`` with a seeded
``StratifiedGroupKFold`` whose groups are the folded text (lower case, no diacritics, no
punctuation), so every held-out example is new to the model, and the folds are identical from
run to run (and from one pipeline to the other).

Same arguments as the ``rasa`` command::

    .venv/rasa/bin/python -m bot.nlu.grouped_cv test nlu --nlu data/nlu.yml --config config.yml \\
        --cross-validation --folds 3 --out var/nlu-eval/r4

Rasa scores entities per token, so its entity F1 depends on the tokenizer ("Quảng Bình" is one
token or two). ``span-f1`` scores DIET's entities per annotation (exact span and label) from the
training data and the run's ``DIETClassifier_errors.json``::

    .venv/rasa/bin/python -m bot.nlu.grouped_cv span-f1 data/nlu.yml var/nlu-eval/r4
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.underthesea_tokenizer import fold

logger = logging.getLogger(__name__)

SEED = 42


def group_key(text: str) -> str:
    """The text as the featurizers see it: "Xin chào!" and "xin chao" → "xin chao".

    A text with no word at all ("👍") is its own group.
    """
    return " ".join(re.sub(r"[^\w\s]", " ", fold(text)).split()) or text.strip()


def grouped_folds(n: int, training_data: TrainingData
                  ) -> Iterator[tuple[TrainingData, TrainingData]]:
    """Stratified by intent, grouped by :func:`group_key`, seeded."""
    from sklearn.model_selection import StratifiedGroupKFold

    examples = training_data.intent_examples
    labels = [example.get_full_intent() for example in examples]
    groups = [group_key(example.get("text")) for example in examples]
    splitter = StratifiedGroupKFold(n_splits=n, shuffle=True, random_state=SEED)
    for i_fold, (train_index, test_index) in enumerate(splitter.split(examples, labels, groups)):
        logger.info("fold %d: %d train, %d test examples", i_fold, len(train_index),
                    len(test_index))
        parts = []
        for index in (train_index, test_index):
            parts.append(TrainingData(
                training_examples=[examples[i] for i in index],
                entity_synonyms=training_data.entity_synonyms,
                regex_features=training_data.regex_features,
                lookup_tables=training_data.lookup_tables,
                responses=training_data.responses,
            ))
        yield parts[0], parts[1]


Span = tuple[str, int, int]


def span_f1(gold: dict[str, set[Span]], errors: list[dict]) -> dict[str, float]:
    """Micro F1 (and per label) of DIET's entities, exact span and label.

    ``gold`` maps every held-out text to its annotations; ``errors`` is Rasa's
    ``DIETClassifier_errors.json`` (examples not listed there were predicted exactly).
    """
    predicted = dict(gold)
    for error in errors:
        predicted[error["text"]] = {(e["entity"], e["start"], e["end"])
                                    for e in error["predicted_entities"]
                                    if e.get("extractor") == "DIETClassifier"}
    counts: dict[str, Counter] = {"tp": Counter(), "fp": Counter(), "fn": Counter()}
    for text, spans in gold.items():
        for kind, found in (("tp", spans & predicted[text]), ("fp", predicted[text] - spans),
                            ("fn", spans - predicted[text])):
            counts[kind].update(label for label, _, _ in found)

    def f1(tp: int, fp: int, fn: int) -> float:
        return 2 * tp / (2 * tp + fp + fn) if tp else 0.0

    labels = set(counts["tp"]) | set(counts["fn"]) | set(counts["fp"])
    scores = {label: f1(counts["tp"][label], counts["fp"][label], counts["fn"][label])
              for label in sorted(labels)}
    scores["micro"] = f1(*(sum(counts[k].values()) for k in ("tp", "fp", "fn")))
    return scores


def _span_f1_command(nlu: str, out: str) -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    gold = {m.get("text"): {(e["entity"], e["start"], e["end"]) for e in m.get("entities", [])}
            for m in load_data(nlu).intent_examples}
    errors = json.loads((Path(out) / "DIETClassifier_errors.json").read_text())
    sys.stdout.write(json.dumps({k: round(v, 3) for k, v in span_f1(gold, errors).items()}) + "\n")


def main() -> None:
    if sys.argv[1:2] == ["span-f1"]:
        _span_f1_command(*sys.argv[2:4])
        return
    import rasa.nlu.test
    from rasa.__main__ import main as rasa_main

    rasa.nlu.test.generate_folds = grouped_folds
    sys.argv = ["rasa", *sys.argv[1:]]
    rasa_main()


if __name__ == "__main__":
    main()
