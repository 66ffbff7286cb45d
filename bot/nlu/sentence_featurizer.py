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

At inference (one message per turn, on Rasa's event loop) the forward pass runs on
``inference_threads`` threads (default 1: with matrices this small a second thread mostly
spins — numpy took 45 ms of CPU per short message on one thread, 50–110 ms on two, measured on
the 2-core EPYC — and takes the core the action server needs), and the encodings of the last
``cache_size`` distinct texts are kept: greetings, thanks, button payloads and the questions
citizens ask most are encoded once (docs/benchmarks.md, "Load"). Training data is encoded in
batches with every thread and never cached.

The model runs with ONNX Runtime on the fp32 graph set-up exports (``backend: auto``; about 14 ms
of CPU per short message), or with numpy where that is missing (:mod:`bot.nlu.sentence_encoder`;
the two give the same features, so a trained model runs with either): no torch in the Rasa
venv. Its
folder is ``var/models/multilingual-e5-small`` by default, built offline by
``scripts/setup.sh``; ``model`` takes another local sentence-transformers folder (BERT, RoBERTa
or XLM-R encoder), or a hub name where a hub is reachable. The measured effect is in
docs/nlu-evaluation.md. Use in ``config.yml`` after the tokenizer::

    - name: bot.nlu.sentence_featurizer.SentenceEmbeddingFeaturizer
      model: var/models/multilingual-e5-small
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from contextlib import AbstractContextManager, nullcontext
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

from bot.nlu.sentence_encoder import BACKENDS, SentenceEncoder

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
            # forward pass: "auto" (ONNX Runtime when onnx/model.onnx is there), "onnx", "numpy"
            "backend": "auto",
            # threads of the forward pass when messages are parsed (0 = leave as is)
            "inference_threads": 1,
            # distinct message texts whose encodings are kept (0 = no cache)
            "cache_size": 2048,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["tokenizers", "safetensors", "scipy", "threadpoolctl"]

    def __init__(self, config: dict[str, Any], execution_context: ExecutionContext) -> None:
        super().__init__(execution_context.node_name, config)
        # loaded here, not at import: the server pays it once at start (about 1 s)
        self.encoder = SentenceEncoder.load(self._config["model"], self._config["max_length"],
                                            self._config["backend"])
        self._cache = EncodingCache(int(self._config["cache_size"]))
        self._threads = BlasThreads(int(self._config["inference_threads"]))

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> SentenceEmbeddingFeaturizer:
        return cls(config, execution_context)

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        from rasa.shared.exceptions import InvalidConfigException

        if not isinstance(config.get("model"), str) or not config["model"].strip():
            raise InvalidConfigException(
                "SentenceEmbeddingFeaturizer needs `model`: a sentence-transformers folder")
        if config.get("backend", "auto") not in BACKENDS:
            raise InvalidConfigException(
                f"SentenceEmbeddingFeaturizer: `backend` must be one of {', '.join(BACKENDS)}, "
                f"not {config.get('backend')!r}")
        for key in ("inference_threads", "cache_size"):
            value = config.get(key, 0)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise InvalidConfigException(
                    f"SentenceEmbeddingFeaturizer: `{key}` must be a whole number >= 0, "
                    f"not {value!r}")

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples, inference=False)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        return self._featurize(messages, inference=True)

    def _featurize(self, messages: list[Message], inference: bool) -> list[Message]:
        todo = [m for m in messages if m.get(TEXT) and m.get(TOKENS_NAMES[TEXT])]
        if not todo:
            return messages
        prefix = self._config["prefix"]
        texts = [prefix + m.get(TEXT) for m in todo]
        found = {t: self._cache.get(t) for t in texts} if inference else {}
        missing = list(dict.fromkeys(t for t in texts if found.get(t) is None))
        if missing:
            with self._threads.limit() if inference else nullcontext():
                encoded = self.encoder.encode(
                    missing, batch_size=self._config["batch_size"],
                    threads=int(self._config["inference_threads"]) if inference else 0)
            for n, text in enumerate(missing):
                item = (encoded.sentences[n], encoded.pieces[n], encoded.offsets[n])
                found[text] = item
                if inference:
                    self._cache.put(text, item)
        for message, text in zip(todo, texts, strict=True):
            sentence, pieces, offsets = found[text]
            sequence = self.token_features(message.get(TOKENS_NAMES[TEXT]), pieces, offsets,
                                           len(prefix))
            self.add_features_to_message(sequence, sentence[None, :], TEXT, message)
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


Encoding = tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]


class EncodingCache:
    """The encodings (sentence vector, piece states, piece offsets) of the last ``size``
    distinct texts, least recently used out first. Arrays are stored read-only: features are
    computed from them, never in them."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[str, Encoding] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, text: str) -> Encoding | None:
        if self.size <= 0:
            return None
        with self._lock:
            item = self._items.get(text)
            if item is None:
                self.misses += 1
                return None
            self._items.move_to_end(text)
            self.hits += 1
            return item

    def put(self, text: str, item: Encoding) -> None:
        if self.size <= 0:
            return
        sentence, pieces, offsets = item
        sentence.setflags(write=False)
        pieces.setflags(write=False)
        with self._lock:
            self._items[text] = (sentence, pieces, list(offsets))
            self._items.move_to_end(text)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class BlasThreads:
    """A context that runs numpy's BLAS with ``threads`` threads (0: unchanged); the BLAS
    libraries are looked up once (threadpoolctl), not per message."""

    def __init__(self, threads: int) -> None:
        self.threads = threads
        self._controller = None

    def limit(self) -> AbstractContextManager:
        if self.threads <= 0:
            return nullcontext()
        if self._controller is None:
            from threadpoolctl import ThreadpoolController

            self._controller = ThreadpoolController()
        return self._controller.limit(limits=self.threads, user_api="blas")
