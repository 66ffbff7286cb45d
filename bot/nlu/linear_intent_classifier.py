"""Intent classification by a linear model over word, character and sentence-embedding features.

DIETClassifier reached intent F1 0.935 on this data with lexical features and *lost* ground
(0.929) when the e5 sentence embedding was added: with ~1,300 training examples per fold its
transformer fits the training folds perfectly (train accuracy 0.999) and the 768 extra dense
inputs only give it more to overfit. A regularised linear model over the same features does what
the features allow (docs/nlu-evaluation.md, round r6):

- the **sparse sentence features** of the pipeline's featurizers (word and word-pair counts,
  character n-grams, lookup/regex hits), re-weighted as sublinear TF-IDF fitted on the training
  data and L2-normalised;
- the **dense sentence feature** (the e5 sentence embedding of
  :mod:`bot.nlu.sentence_featurizer`), scaled by ``dense_weight``;
- multinomial logistic regression (``C``), whose class probabilities are the intent confidences
  the FallbackClassifier thresholds.

DIETClassifier stays in the pipeline for entities (``intent_classification: false``). The model
is stored as plain arrays (``numpy.savez``, no pickle). A message is scored on the columns of
its own non-zero features only (:meth:`LinearIntentClassifier.scores`: the same arithmetic as
the training matrix, without building sparse matrices — 16 ms → well under 1 ms per message
under load, docs/benchmarks.md "Load").

Use in ``config.yml`` after the featurizers::

    - name: bot.nlu.linear_intent_classifier.LinearIntentClassifier
      C: 30
      dense_weight: 2.0
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers import LABEL_RANKING_LENGTH
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

MODEL_FILE = "linear_intent_classifier.npz"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Multinomial logistic regression over TF-IDF sparse + scaled dense sentence features."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "C": 30.0,  # inverse regularisation of the logistic regression
            "dense_weight": 2.0,  # scale of the dense sentence feature against the TF-IDF part
            "max_iter": 3000,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["sklearn", "scipy"]

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 arrays: dict[str, np.ndarray] | None = None) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.arrays = arrays  # classes, idf, coef, intercept

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LinearIntentClassifier:
        try:
            with model_storage.read_from(resource) as folder:
                with np.load(folder / MODEL_FILE, allow_pickle=False) as data:
                    arrays = {name: data[name] for name in data.files}
        except (ValueError, FileNotFoundError, OSError):
            logger.warning("LinearIntentClassifier: no trained model in the Rasa model; "
                           "intents will not be classified until it is trained again")
            arrays = None
        return cls(config, model_storage, resource, arrays)

    # -- features ---------------------------------------------------------------------------
    def _raw_features(self, message: Message, required: bool = True
                      ) -> tuple[scipy.sparse.csr_matrix, np.ndarray] | None:
        """The message's sparse sentence row and dense sentence vector (Rasa combines and
        copies every featurizer's features on each call: called once per message). Without
        sparse features: ValueError, or None when not ``required``."""
        _, sparse = message.get_sparse_features(TEXT)
        if sparse is None:
            if not required:
                return None
            raise ValueError("LinearIntentClassifier needs sparse sentence features "
                             "(CountVectorsFeaturizer) before it in the pipeline")
        _, dense = message.get_dense_features(TEXT)
        row = scipy.sparse.csr_matrix(sparse.features, dtype=np.float64)
        vector = (np.asarray(dense.features, dtype=np.float64).reshape(-1) if dense is not None
                  else np.zeros(0))
        return row, vector

    def _matrix(self, rows: list[scipy.sparse.csr_matrix], vectors: list[np.ndarray],
                idf: np.ndarray) -> scipy.sparse.csr_matrix:
        counts = scipy.sparse.vstack(rows).tocsr()
        counts.data = 1.0 + np.log(np.maximum(counts.data, 1e-12))  # sublinear term frequency
        weighted = counts.multiply(idf[None, :]).tocsr()
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1))).reshape(-1)
        weighted = scipy.sparse.diags(1.0 / np.maximum(norms, 1e-12)) @ weighted
        dense = np.vstack(vectors) * float(self.config["dense_weight"])
        return scipy.sparse.hstack([weighted, scipy.sparse.csr_matrix(dense)]).tocsr()

    # -- training -------------------------------------------------------------------------------
    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        examples = [e for e in training_data.intent_examples if e.get(TEXT)]
        labels = [e.get(INTENT) for e in examples]
        if len(set(labels)) < 2:
            logger.warning("LinearIntentClassifier: fewer than two intents, nothing trained")
            return self._resource
        raw = [self._raw_features(e) for e in examples]
        rows = [r for r, _ in raw]
        counts = scipy.sparse.vstack(rows).tocsr()
        document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log((1 + len(rows)) / (1 + document_frequency)) + 1.0  # smooth, as sklearn
        features = self._matrix(rows, [v for _, v in raw], idf)
        model = LogisticRegression(C=float(self.config["C"]),
                                   max_iter=int(self.config["max_iter"]))
        model.fit(features, labels)
        coef, intercept = model.coef_, model.intercept_
        if len(model.classes_) == 2:  # sklearn keeps one row for two classes
            coef, intercept = np.vstack([-coef, coef]), np.concatenate([-intercept, intercept])
        self.arrays = {"classes": np.asarray(model.classes_, dtype=str), "idf": idf,
                       "coef": coef, "intercept": intercept}
        with self._model_storage.write_to(self._resource) as folder:
            np.savez(folder / MODEL_FILE, **self.arrays)
        return self._resource

    # -- prediction -----------------------------------------------------------------------------
    def predict(self, messages: list[Message]) -> np.ndarray:
        """Class probabilities (rows: messages, columns: ``self.arrays["classes"]``)."""
        return self._probabilities([self._raw_features(m) for m in messages])

    def _probabilities(self, raw: list[tuple[scipy.sparse.csr_matrix, np.ndarray]]
                       ) -> np.ndarray:
        scores = np.vstack([self.scores(row, vector) for row, vector in raw])
        scores = scores - np.max(scores, axis=1, keepdims=True)
        probabilities = np.exp(scores)
        return probabilities / probabilities.sum(axis=1, keepdims=True)

    def scores(self, row: scipy.sparse.csr_matrix, vector: np.ndarray) -> np.ndarray:
        """Class scores of one message: what ``_matrix`` and the coefficients give for its row
        (sublinear TF × IDF, L2-normalised, then the scaled dense vector), computed on the
        message's own non-zero columns."""
        arrays = self.arrays
        width = arrays["idf"].shape[0]
        if row.shape[1] != width:
            raise ValueError("LinearIntentClassifier: the sparse features have changed width "
                             "since training (was the pipeline changed?); train again")
        row.sum_duplicates()
        columns = row.indices
        weights = (1.0 + np.log(np.maximum(row.data, 1e-12))) * arrays["idf"][columns]
        weights /= max(float(np.sqrt(weights @ weights)), 1e-12)
        coef = arrays["coef"]
        scores = coef[:, columns] @ weights + arrays["intercept"]
        if vector.size:
            scores += coef[:, width:width + vector.size] @ (vector
                                                           * float(self.config["dense_weight"]))
        return scores

    def process(self, messages: list[Message]) -> list[Message]:
        ready, raw = [], []
        for message in messages:
            features = (self._raw_features(message, required=False)
                        if message.get(TEXT) and self.arrays is not None else None)
            if features is not None:
                ready.append(message)
                raw.append(features)
        if ready:
            probabilities = self._probabilities(raw)
            classes = self.arrays["classes"]
            for message, row in zip(ready, probabilities, strict=True):
                order = np.argsort(-row)[:LABEL_RANKING_LENGTH]
                ranking = [{"name": str(classes[i]), "confidence": float(row[i])} for i in order]
                message.set(INTENT, ranking[0], add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        classified = {id(m) for m in ready}
        for message in messages:
            if id(message) not in classified and not message.get(INTENT):
                message.set(INTENT, {"name": None, "confidence": 0.0}, add_to_output=True)
                message.set(INTENT_RANKING_KEY, [], add_to_output=True)
        return messages
