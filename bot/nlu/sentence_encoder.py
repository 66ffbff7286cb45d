"""A sentence-transformers encoder (BERT / XLM-RoBERTa, mean or CLS pooling) without torch.

The Rasa venv has no torch (and must not: rasa 3.6 pins TensorFlow 2.12 and numpy 1.23), yet the
NLU benefits from the same multilingual e5 model the knowledge base ships. This module runs that
model's forward pass from the sentence-transformers folder itself — ``config.json``,
``tokenizer.json`` (read with Hugging Face ``tokenizers``), ``1_Pooling/config.json`` and
``2_Normalize`` — so the vectors are the ones ``SentenceTransformer(folder).encode(...)`` gives
(tests/bot/rasa_venv/test_sentence_encoder.py compares them with vectors computed by
sentence-transformers in the knowledge venv). Two backends compute the same forward pass:

- ``onnx``: ONNX Runtime on the fp32 graph ``onnx/model.onnx`` that ``kb build-model`` exports
  into the folder (input ids + attention mask → token states). About 3× less CPU per message
  than numpy (14 against 43 ms for a short message on one thread, 2-core EPYC without AVX-512),
  which is CPU taken from Rasa's single event loop on every turn (docs/benchmarks.md, "Load").
  Its states equal numpy's to 1e-6, so a model trained with one backend runs with the other.
- ``numpy``: the layers written out with numpy over ``model.safetensors`` (read with
  ``safetensors``); what runs where ONNX Runtime or the graph is missing.

``backend="auto"`` (the default) takes ``onnx`` when both are there.

No Rasa import here: :mod:`bot.nlu.sentence_featurizer` is the Rasa component around it.

    encoder = SentenceEncoder.load("var/models/multilingual-e5-small")
    out = encoder.encode(["query: năm 2018 kiểm tra những đơn vị nào?"])
    out.sentences[0]          # (384,) normalized sentence vector
    out.pieces[0]             # (n_pieces, 384) last hidden states, <s> … </s>
    out.offsets[0]            # character span of each piece in the input text
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


class EncoderError(RuntimeError):
    """The model folder is missing or is not a model this encoder can run."""


@dataclass
class Encoded:
    """What :meth:`SentenceEncoder.encode` returns for a batch of texts."""

    sentences: np.ndarray  # (n_texts, hidden) pooled (and normalized if the model says so)
    pieces: list[np.ndarray]  # per text: (n_pieces, hidden) last hidden states
    offsets: list[list[tuple[int, int]]]  # per text: character span of each piece


def resolve_model_folder(model: str) -> Path:
    """A local folder (absolute, relative to the working directory or to the project), or a hub
    name fetched with ``huggingface_hub`` where a hub is reachable (it is not on this machine)."""
    for candidate in (Path(model), PROJECT_ROOT / model):
        if (candidate / "config.json").is_file():
            return candidate
    if os.environ.get("HF_HUB_OFFLINE") not in ("1", "true", "True") and "/" in model \
            and not Path(model).is_absolute() and not model.startswith("."):
        try:
            from huggingface_hub import snapshot_download

            return Path(snapshot_download(model))
        except Exception as exc:  # noqa: BLE001 - any hub failure means "not available"
            raise EncoderError(f"sentence model {model!r}: not a local folder and the hub "
                               f"could not provide it ({exc})") from exc
    raise EncoderError(
        f"sentence model {model!r} not found (looked in {Path(model).resolve()} and "
        f"{PROJECT_ROOT / model}). Build it with `bash scripts/setup.sh` "
        "(`.venv/kb/bin/kb build-model`).")


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


BACKENDS = ("auto", "onnx", "numpy")
ONNX_GRAPH = Path("onnx") / "model.onnx"  # written by knowledge/embedding/onnx_export.py


def onnx_runtime_available() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def choose_backend(folder: Path, backend: str) -> str:
    """``onnx`` or ``numpy`` for ``folder``: ``auto`` takes ONNX Runtime when the graph is there."""
    if backend not in BACKENDS:
        raise EncoderError(f"backend {backend!r}: one of {', '.join(BACKENDS)}")
    has_onnx = (folder / ONNX_GRAPH).is_file() and onnx_runtime_available()
    if backend == "onnx" and not has_onnx:
        raise EncoderError(f"{folder}: backend onnx needs onnxruntime and {ONNX_GRAPH} "
                           "(`.venv/kb/bin/kb build-model` exports it)")
    if backend == "auto":
        return "onnx" if has_onnx else "numpy"
    return backend


class SentenceEncoder:
    """The forward pass of a BERT-family encoder, as sentence-transformers pools it."""

    def __init__(self, folder: Path, max_length: int = 128, backend: str = "auto") -> None:
        from tokenizers import Tokenizer

        self.folder = folder
        config = json.loads((folder / "config.json").read_text("utf-8"))
        self.model_type = config.get("model_type", "bert")
        if self.model_type not in ("bert", "xlm-roberta", "roberta"):
            raise EncoderError(f"{folder}: model_type {self.model_type!r} is not supported "
                               "(BERT, RoBERTa and XLM-RoBERTa encoders are)")
        if config.get("hidden_act", "gelu") != "gelu":
            raise EncoderError(f"{folder}: activation {config.get('hidden_act')!r} not supported")
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.pad_id = int(config.get("pad_token_id", 0))
        # RoBERTa numbers positions from padding_idx + 1; BERT from 0
        self.position_offset = self.pad_id + 1 if self.model_type != "bert" else 0
        max_positions = int(config.get("max_position_embeddings", 512)) - self.position_offset
        self.max_length = min(max_length, max_positions)

        pooling = {"pooling_mode_mean_tokens": True}
        if (folder / "1_Pooling" / "config.json").is_file():
            pooling = json.loads((folder / "1_Pooling" / "config.json").read_text("utf-8"))
        self.cls_pooling = bool(pooling.get("pooling_mode_cls_token"))
        if not (self.cls_pooling or pooling.get("pooling_mode_mean_tokens")):
            raise EncoderError(f"{folder}: only mean or CLS pooling is supported")
        modules = folder / "modules.json"
        self.normalize = (not modules.is_file()) or "Normalize" in modules.read_text("utf-8")

        self.backend = choose_backend(folder, backend)
        self._sessions: dict[int, Any] = {}  # ONNX Runtime sessions by thread count
        self._session_lock = threading.Lock()
        self.w: dict[str, np.ndarray] = {}
        if self.backend == "numpy":
            self._load_weights(folder)

        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)

    def _load_weights(self, folder: Path) -> None:
        from safetensors.numpy import load_file

        weights = folder / "model.safetensors"
        if not weights.is_file():
            raise EncoderError(f"{folder}: no model.safetensors")
        tensors = load_file(str(weights))
        prefix = next((p for p in ("", "roberta.", "bert.", "model.")
                       if f"{p}embeddings.word_embeddings.weight" in tensors), None)
        if prefix is None:
            raise EncoderError(f"{folder}: no embeddings.word_embeddings.weight in the weights")
        self.w = {k[len(prefix):]: v.astype(np.float32) for k, v in tensors.items()
                  if k.startswith(prefix)}

    @classmethod
    def load(cls, model: str, max_length: int = 128, backend: str = "auto") -> SentenceEncoder:
        """The encoder of ``model`` (a folder or hub name), loaded once per process."""
        return _cached(str(resolve_model_folder(model).resolve()), max_length, backend)

    @property
    def dimension(self) -> int:
        return self.hidden

    def encode(self, texts: list[str], batch_size: int = 32, threads: int = 0) -> Encoded:
        """Encode ``texts`` (any prompt prefix already included), batched by length.

        ``threads``: ONNX Runtime's threads for this call (0: one per core). The numpy backend
        uses numpy's BLAS threads, which the caller limits (``threadpoolctl``)."""
        encodings = self.tokenizer.encode_batch(list(texts))
        sentences = np.zeros((len(texts), self.hidden), dtype=np.float32)
        pieces: list[np.ndarray] = [np.zeros((0, self.hidden), np.float32)] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            states, mask = self._forward([encodings[i].ids for i in batch], threads)
            for row, i in enumerate(batch):
                n = int(mask[row].sum())
                pieces[i] = states[row, :n]
                if self.cls_pooling:
                    sentences[i] = states[row, 0]
                else:
                    sentences[i] = states[row, :n].mean(0)
        if self.normalize:
            norms = np.linalg.norm(sentences, axis=1, keepdims=True)
            sentences = sentences / np.maximum(norms, 1e-12)
        return Encoded(sentences, pieces, [list(e.offsets) for e in encodings])

    def _forward(self, batch_ids: list[list[int]],
                 threads: int = 0) -> tuple[np.ndarray, np.ndarray]:
        length = max(len(ids) for ids in batch_ids)
        ids = np.full((len(batch_ids), length), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(batch_ids), length), dtype=np.float32)
        for row, seq in enumerate(batch_ids):
            ids[row, :len(seq)] = seq
            mask[row, :len(seq)] = 1.0
        if self.backend == "onnx":
            states = self._session(threads).run(
                None, {"input_ids": ids, "attention_mask": mask.astype(np.int64)})[0]
            return states.astype(np.float32, copy=False), mask
        return self._forward_numpy(ids, mask), mask

    def _session(self, threads: int) -> Any:
        """The ONNX Runtime session with ``threads`` intra-op threads (created once each)."""
        with self._session_lock:
            session = self._sessions.get(threads)
            if session is None:
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = max(threads, 0)
                options.inter_op_num_threads = 1
                options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                session = ort.InferenceSession(str(self.folder / ONNX_GRAPH), options,
                                               providers=["CPUExecutionProvider"])
                self._sessions[threads] = session
            return session

    def _forward_numpy(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w, h, nh = self.w, self.hidden, self.heads
        length = ids.shape[1]
        if self.model_type == "bert":
            positions = np.broadcast_to(np.arange(length), ids.shape)
        else:  # RoBERTa: padding_idx + 1, 2, …; padding keeps padding_idx
            positions = (np.cumsum(mask, axis=1) * mask).astype(np.int64) + self.pad_id
        x = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][positions]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"],
                        self.eps)
        bsz, seq = ids.shape
        head = h // nh
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."

            def dense(t: np.ndarray, name: str, p: str = p) -> np.ndarray:
                return t @ w[p + name + ".weight"].T + w[p + name + ".bias"]

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(bsz, seq, nh, head).transpose(0, 2, 1, 3)

            q = split(dense(x, "attention.self.query"))
            k = split(dense(x, "attention.self.key"))
            v = split(dense(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(bsz, seq, h)
            x = _layer_norm(x + dense(context, "attention.output.dense"),
                            w[p + "attention.output.LayerNorm.weight"],
                            w[p + "attention.output.LayerNorm.bias"], self.eps)
            inner = _gelu(dense(x, "intermediate.dense"))
            x = _layer_norm(x + dense(inner, "output.dense"), w[p + "output.LayerNorm.weight"],
                            w[p + "output.LayerNorm.bias"], self.eps)
        return x.astype(np.float32)


@functools.lru_cache(maxsize=2)
def _cached(folder: str, max_length: int, backend: str) -> SentenceEncoder:
    encoder = SentenceEncoder(Path(folder), max_length, backend)
    logger.info("loaded sentence encoder %s (%s)", folder, encoder.backend)
    return encoder
