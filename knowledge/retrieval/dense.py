"""Dense retrieval: the embedding model (:class:`Embedder`, on torch or ONNX Runtime) and
exact faiss search (inner product on L2-normalised vectors = cosine)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from knowledge.embedding.base import TokenEncoder
from knowledge.embedding.folder import E5_PROMPTS, ModelFolder
from knowledge.embedding.onnx_backend import OnnxEncoder
from knowledge.embedding.onnx_export import onnx_available
from knowledge.embedding.pooling import mean_pool, span_pool, token_range
from knowledge.embedding.settings import (
    PASSAGE_TOKENS,
    EncoderBackend,
    EncoderSettings,
    Precision,
    cpu_has_fast_bf16,
)
from knowledge.embedding.torch_backend import TorchEncoder

logger = logging.getLogger(__name__)

#: Re-exported for callers of the torch-only days; the settings live in knowledge.embedding.
__all__ = ["PASSAGE_TOKENS", "E5_PROMPTS", "Embedder", "DenseIndex", "cpu_has_fast_bf16",
           "resolve_passage_tokens"]

#: What becomes of a sentence that lies beyond a passage's token limit, in
#: :meth:`Embedder.embed_passages_with_spans`: ``window`` encodes the passage's tail again from
#: that sentence on (one more forward pass over the tail only), ``passage`` gives it the
#: passage's own vector.
TAIL_MODES = ("window", "passage")


def resolve_passage_tokens(tokens: int | None | str = "auto") -> int | None:
    """``"auto"`` → ``KB_EMBED_MAX_TOKENS`` or :data:`PASSAGE_TOKENS`; ``None`` → the model's
    own limit."""
    if tokens != "auto":
        return tokens  # type: ignore[return-value]
    return EncoderSettings.from_env().passage_tokens


@dataclass
class _Window:
    """One forward pass of (part of) a passage: the passage from character ``offset`` on."""

    text: int  # index of the passage
    offset: int  # first character of the passage inside this window
    spans: list[int]  # indices of the spans still to pool, in order of start


class Embedder:
    """The embedding model, loaded on first use: tokenisation with the folder's fast tokenizer
    and its prompts (``query: `` / ``passage: `` for e5), a transformer forward pass on the
    configured backend (:mod:`knowledge.embedding.settings`: torch fp32/bf16 or ONNX Runtime
    fp32/int8), mean pooling over the tokens and L2 normalisation.

    ``model`` is the folder built by ``kb build-model`` (any mean-pooling sentence-transformers
    folder works; the onnx backend needs the folder's ``onnx/`` graphs) or, for the torch
    backend where a model hub is reachable, a hub name.

    Example:
        >>> embedder = Embedder("var/models/multilingual-e5-small")  # doctest: +SKIP
        >>> embedder.embed_queries(["Kế hoạch CCHC năm 2019 của Quảng Trị?"]).shape  # +SKIP
        (1, 384)
    """

    def __init__(self, model: str, batch_size: int = 32, device: str = "cpu",
                 precision: str | None = None, max_seq_length: int | None | str = "auto",
                 backend: str | None = None, settings: EncoderSettings | None = None) -> None:
        """
        Args:
            model: folder or hub name.
            batch_size: texts per forward pass.
            device: torch device (the onnx backend runs on the CPU).
            precision / backend: override ``settings`` (``auto``, ``fp32``, ``bf16``, ``int8``
                / ``auto``, ``torch``, ``onnx``).
            max_seq_length: tokens per text: ``"auto"`` = the settings' passage tokens,
                ``None`` = the model's own limit, or a number.
            settings: the validated encoder settings; read from the environment when omitted
                (:meth:`EncoderSettings.from_env`).
        """
        settings = settings if settings is not None else EncoderSettings.from_env()
        overrides: dict = {}
        if precision is not None:
            overrides["precision"] = Precision.from_str(precision)
        if backend is not None:
            overrides["backend"] = EncoderBackend.from_str(backend)
        if max_seq_length != "auto":
            overrides["passage_tokens"] = max_seq_length
        self.settings = replace(settings, **overrides) if overrides else settings
        self.model_name = model
        self.batch_size = batch_size
        self.device = device
        #: tokens read per text (None: the model's own limit, 512 for e5). A legal-scale
        #: chunk is 198 tokens on average; BM25 sees all of it.
        self.max_seq_length = self.settings.passage_tokens
        has_onnx = onnx_available(model)
        backend_, precision_ = self.settings.resolve(onnx_available=has_onnx)
        if (not has_onnx and self.settings.backend is EncoderBackend.AUTO
                and backend_ is EncoderBackend.TORCH and precision_ is Precision.FP32):
            logger.warning("%s has no ONNX export: encoding with torch fp32, several times "
                           "slower on this CPU; 'kb build-model --out %s --onnx-only' adds it",
                           model, model)
        #: ``torch`` or ``onnx``
        self.backend = backend_.value
        #: ``fp32``, ``bf16`` or ``int8`` (weights; vectors are always float32, unit length)
        self.precision = precision_.value
        self._threads = self.settings.threads
        self._encoder: TokenEncoder | None = None
        self._tokenizer = None
        self._folder: ModelFolder | None = None
        self._pad_id = 0
        self._limit = 512
        self._lock = threading.Lock()

    # -- loading ---------------------------------------------------------------------------
    def _load(self) -> TokenEncoder:
        if self._encoder is None:
            with self._lock:
                if self._encoder is None:
                    folder = ModelFolder.read(self.model_name)
                    tokenizer = folder.tokenizer()
                    self._limit = min(self.max_seq_length or folder.max_seq_length,
                                      folder.max_seq_length)
                    tokenizer.enable_truncation(max_length=self._limit)
                    self._pad_id = folder.pad_id(tokenizer)
                    if self.backend == EncoderBackend.ONNX.value:
                        if folder.path is None:
                            raise FileNotFoundError(
                                f"the onnx backend needs a model folder; {self.model_name!r} "
                                "is not one")
                        encoder: TokenEncoder = OnnxEncoder(folder.path, self.precision,
                                                            self._threads)
                    else:
                        encoder = TorchEncoder(self.model_name, self.precision, self._threads,
                                               device=self.device)
                    self._folder, self._tokenizer = folder, tokenizer
                    self._encoder = encoder
                    logger.info("embedding model %s: %s %s, %d tokens, %d threads",
                                self.model_name, self.backend, self.precision, self._limit,
                                self._threads)
        return self._encoder

    def warm_up(self) -> None:
        """Load the model and run one query, so the first real question is not the slow one."""
        self.embed_queries(["khởi động"])

    @property
    def threads(self) -> int:
        """Encoder threads configured (``KB_TORCH_THREADS`` or one per CPU)."""
        return self._threads

    def set_threads(self, n: int) -> None:
        """Encode with ``n`` threads from now on (e.g. one core left to another stage)."""
        self._load().set_threads(max(1, n))

    @property
    def active_threads(self) -> int:
        """Threads the encoder runs with now (:meth:`set_threads`; :attr:`threads` at first)."""
        return self._load().threads

    @property
    def dimension(self) -> int:
        return self._load().hidden_size

    @property
    def prompts(self) -> dict[str, str]:
        """The prompts put before queries and passages."""
        self._load()
        return dict(self._folder.prompts) if self._folder else {}

    @property
    def identity(self) -> dict:
        """What an index should record about the vectors (see docs/benchmarks.md §2)."""
        return {"model": self.model_name, "backend": self.backend, "precision": self.precision,
                "passage_tokens": self.max_seq_length}

    # -- encoding ----------------------------------------------------------------------------
    def _tokenize(self, strings: Sequence[str]) -> list:
        self._load()
        return self._tokenizer.encode_batch(list(strings), add_special_tokens=True)

    def _pad(self, encodings: Sequence) -> tuple[np.ndarray, np.ndarray]:
        width = max(len(e.ids) for e in encodings)
        ids = np.full((len(encodings), width), self._pad_id, dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, :len(encoding.ids)] = encoding.ids
            mask[row, :len(encoding.ids)] = 1
        return ids, mask

    def _forward(self, encodings: Sequence, show_progress: bool = False):
        """Yield (indices, token embeddings, mask) per batch, longest texts first."""
        encoder = self._load()
        order = sorted(range(len(encodings)), key=lambda i: -len(encodings[i].ids))
        bar = None
        if show_progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=len(order), unit="passage", desc="embedding")
        try:
            for first in range(0, len(order), self.batch_size):
                rows = order[first:first + self.batch_size]
                ids, mask = self._pad([encodings[i] for i in rows])
                yield rows, encoder.token_embeddings(ids, mask), mask
                if bar is not None:
                    bar.update(len(rows))
        finally:
            if bar is not None:
                bar.close()

    def _encode(self, texts: Sequence[str], kind: str, show_progress: bool) -> np.ndarray:
        encoder = self._load()
        if not texts:
            return np.zeros((0, encoder.hidden_size), dtype=np.float32)
        prompt = self._folder.prompts.get(kind, "") if self._folder else ""
        encodings = self._tokenize([prompt + t for t in texts])
        vectors = np.zeros((len(texts), encoder.hidden_size), dtype=np.float32)
        for rows, hidden, mask in self._forward(encodings, show_progress):
            vectors[rows] = mean_pool(hidden, mask)
        return vectors

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors of questions (the ``query: `` prompt), (len(texts), dimension)."""
        return self._encode(texts, "query", show_progress=False)

    def embed_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        """Unit vectors of passages (the ``passage: `` prompt, cut at ``max_seq_length``)."""
        return self._encode(texts, "passage", show_progress=show_progress)

    def embed_passages_with_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]],
        show_progress: bool = False, tail: str = "window", frame: bool = True,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Passage vectors and, from the same forward pass, a vector per character span
        (e.g. each sentence of the passage).

        A span's vector is the normalised mean of the passage's contextual token embeddings
        over the span's tokens (tokens overlapping its characters) together with the
        passage's frame tokens (``<s>``, the ``passage:`` prompt, ``</s>``), as if the span
        had been embedded on its own: a span covering the whole passage gets exactly the
        passage vector. Passage vectors equal :meth:`embed_passages`.

        Spans beyond the token limit: with ``tail="window"`` the passage is encoded again
        from the first such span on (only its tail, at most ``max_seq_length`` tokens per
        window, repeated until every span is covered; a span longer than a whole window is
        pooled over the tokens that fit); with ``tail="passage"`` they get the passage
        vector. A span without tokens (blank) gets the passage vector.

        Args:
            texts: passages.
            spans: per passage, ``(char_start, char_end)`` pairs into that passage
                (end exclusive, ``0 <= start < end <= len(text)``).
            show_progress: a progress bar over the passages.
            tail: ``window`` or ``passage``.
            frame: include the frame tokens in span means (False: the span's tokens only).

        Returns:
            ``(passage_vectors, span_vectors)``: (len(texts), dim) and one
            (len(spans[i]), dim) array per passage, rows in the order of ``spans[i]``.

        Raises:
            ValueError: ``spans`` does not match ``texts`` or holds a span outside its text.
        """
        if tail not in TAIL_MODES:
            raise ValueError(f"tail must be one of {', '.join(TAIL_MODES)}; got {tail!r}")
        if len(spans) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(spans)} span lists")
        for i, (text, text_spans) in enumerate(zip(texts, spans, strict=True)):
            for start, end in text_spans:
                if not 0 <= start < end <= len(text):
                    raise ValueError(f"span ({start}, {end}) of text {i} is outside 0..{len(text)}"
                                     " or empty")
        encoder = self._load()
        dim = encoder.hidden_size
        passages = np.zeros((len(texts), dim), dtype=np.float32)
        pooled = [np.zeros((len(s), dim), dtype=np.float32) for s in spans]
        if not texts:
            return passages, pooled
        prompt = self._folder.prompts.get("passage", "") if self._folder else ""
        windows = [_Window(i, 0, sorted(range(len(s)), key=lambda j, s=s: s[j]))
                   for i, s in enumerate(spans)]
        first_round = True
        while windows:
            encodings = self._tokenize([prompt + texts[w.text][w.offset:] for w in windows])
            later: list[_Window] = []
            for rows, hidden, mask in self._forward(encodings, show_progress and first_round):
                if first_round:
                    passages[[windows[r].text for r in rows]] = mean_pool(hidden, mask)
                for row, states in zip(rows, hidden, strict=True):
                    window, encoding = windows[row], encodings[row]
                    states = states[:len(encoding.ids)]
                    rest = self._pool_window(window, encoding, states, texts, spans, pooled,
                                             prompt, frame, defer=tail == "window")
                    if rest is not None:
                        later.append(rest)
            windows, first_round = later, False
        for text_index, rows in enumerate(pooled):
            if len(rows):
                rows[~np.any(rows, axis=1)] = passages[text_index]  # spans without tokens
        return passages, pooled

    @staticmethod
    def _pool_window(window: _Window, encoding, states: np.ndarray, texts: Sequence[str],
                     spans: Sequence[Sequence[tuple[int, int]]], pooled: list[np.ndarray],
                     prompt: str, frame: bool, defer: bool) -> _Window | None:
        """Pool the spans of ``window`` that its tokens cover; return the window still needed
        for the others (None when all are done, or when ``defer`` is off)."""
        offsets, special = encoding.offsets, encoding.special_tokens_mask
        prompt_end = len(prompt.rstrip())
        frame_rows = [i for i, ((a, _), s) in enumerate(zip(offsets, special, strict=True))
                      if s or a < prompt_end] if frame else []
        content_end = max((b for (_, b), s in zip(offsets, special, strict=True) if not s),
                          default=len(prompt))
        text = texts[window.text]
        shift = len(prompt) - window.offset  # text position -> position in the window string
        truncated = content_end < len(text.rstrip()) + shift
        ranges, targets, rest = [], [], None
        for position, j in enumerate(window.spans):
            start, end = spans[window.text][j]
            if not text[start:end].strip():
                continue  # blank: left to the passage vector
            fits = not truncated or start + len(text[start:end].rstrip()) + shift <= content_end
            if not fits and defer and start > window.offset:
                rest = _Window(window.text, start, window.spans[position:])
                break
            found = token_range(offsets, special, max(start + shift, len(prompt)), end + shift)
            if found is not None:  # None: beyond the window (tail="passage")
                ranges.append(found)
                targets.append(j)
        if ranges:
            pooled[window.text][targets] = span_pool(states, ranges, frame_rows)
        return rest


class DenseIndex:
    """Exact faiss inner-product search over normalised vectors."""

    def __init__(self, vectors: np.ndarray) -> None:
        import faiss

        # one thread: on 2 busy cores faiss's OpenMP threads cost more than they give
        # (exact search p50 71 ms → 5.6 ms on 20k vectors, docs/benchmarks.md)
        faiss.omp_set_num_threads(int(os.environ.get("KB_FAISS_THREADS", "1")))
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.dimension = vectors.shape[1] if vectors.ndim == 2 else 0
        self._index = faiss.IndexFlatIP(self.dimension)
        if len(vectors):
            self._index.add(vectors)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search_vector(self, query: np.ndarray, k: int,
                      allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        if len(self) == 0 or k <= 0:
            return []
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if allowed is not None:
            import faiss

            ids = np.flatnonzero(allowed).astype(np.int64)
            if ids.size == 0:
                return []
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids))
            scores, rows = self._index.search(query, min(k, ids.size), params=params)
        else:
            scores, rows = self._index.search(query, min(k, len(self)))
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]
