"""Dense NLU features from the multilingual e5 sentence model the knowledge base ships.

Every other feature in the pipeline is lexical (words, word pairs, character n-grams, lookup
tables), so a held-out "bão số mấy sắp vào?" shares nothing with a trained "thời tiết hôm nay
thế nào?" and out-of-scope messages, typed feedback and "chào" (hello or goodbye) were the
intent classifier's errors. This component adds, for the message text:

- a **sentence feature**: the e5 sentence embedding of ``"query: " + text`` (mean pooling,
  normalized: exactly the vector ``SentenceTransformer`` gives);
- **sequence features**: for every token of the pipeline's tokenizer, the mean of the last
  hidden states of the model's word pieces inside that token's characters, so DIET's entity
  tagger sees contextual features too.

The model runs with numpy (:mod:`bot.nlu.sentence_encoder`): no torch in the Rasa venv. Its
folder is ``var/models/multilingual-e5-small`` by default, built offline by
``scripts/setup.sh``; ``model`` takes another local sentence-transformers folder (BERT, RoBERTa
or XLM-R encoder), or a hub name where a hub is reachable. The measured effect is in
docs/nlu-evaluation.md. Use in ``config.yml`` after the tokenizer::

    - name: bot.nlu.sentence_featurizer.SentenceEmbeddingFeaturizer
      model: var/models/multilingual-e5-small
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.sentence_encoder import SentenceEncoder

logger = logging.getLogger(__name__)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Sentence and per-token features from a sentence-transformers encoder (numpy)."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # a local sentence-transformers folder (relative to the project or absolute)
            "model": "var/models/multilingual-e5-small",
            # e5 models expect this prompt before a question
            "prefix": "query: ",
            "max_length": 128,
            "batch_size": 32,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["tokenizers", "safetensors", "scipy"]

    def __init__(self, config: dict[str, Any], execution_context: ExecutionContext) -> None:
        super().__init__(execution_context.node_name, config)
        # loaded here, not at import: the server pays it once at start (about 1 s)
        self.encoder = SentenceEncoder.load(self._config["model"], self._config["max_length"])

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SentenceEmbeddingFeaturizer:
        return cls(config, execution_context)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if not isinstance(config.get("model"), str) or not config["model"].strip():
            from rasa.shared.exceptions import InvalidConfigException

            raise InvalidConfigException(
                "SentenceEmbeddingFeaturizer needs `model`: a sentence-transformers folder")

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        todo = [m for m in messages if m.get(TEXT) and m.get(TOKENS_NAMES[TEXT])]
        if not todo:
            return messages
        prefix = self._config["prefix"]
        encoded = self.encoder.encode([prefix + m.get(TEXT) for m in todo],
                                      batch_size=self._config["batch_size"])
        for n, message in enumerate(todo):
            sequence = self.token_features(message.get(TOKENS_NAMES[TEXT]), encoded.pieces[n],
                                           encoded.offsets[n], len(prefix))
            self.add_features_to_message(sequence, encoded.sentences[n][None, :], TEXT, message)
        return messages

    @staticmethod
    def token_features(tokens: list, states: np.ndarray, offsets: list[tuple[int, int]],
                       shift: int) -> np.ndarray:
        """One row per token: the mean of the states of the pieces overlapping its characters.

        Piece offsets are in the prefixed text; ``shift`` (the prefix length) moves them back.
        A token no piece overlaps (cut off by ``max_length``) gets zeros.
        """
        features = np.zeros((len(tokens), states.shape[1]), dtype=np.float32)
        spans = [(start - shift, end - shift) for start, end in offsets[:len(states)]]
        for row, token in enumerate(tokens):
            hits = [i for i, (start, end) in enumerate(spans)
                    if end > start and start < token.end and end > token.start]
            if hits:
                features[row] = states[hits].mean(0)
        return features
