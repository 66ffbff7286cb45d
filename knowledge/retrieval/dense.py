"""Dense retrieval: sentence-transformers embeddings searched with faiss (inner product on
L2-normalised vectors = cosine)."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

#: Prompts of the E5 family, used when a model does not declare its own.
E5_PROMPTS = {"query": "query: ", "passage": "passage: "}

PRECISIONS = ("auto", "fp32", "bf16")


def cpu_has_fast_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU multiplies bfloat16 in hardware (Intel AMX): there, bf16 weights encode
    ≈ 9× faster than fp32 (docs/benchmarks.md §2). Without AMX torch emulates bf16 slowly."""
    try:
        return "amx_bf16" in cpuinfo.read_text(errors="replace")
    except OSError:
        return False


def resolve_precision(precision: str | None = None) -> str:
    """``auto`` (default, or ``KB_EMBED_PRECISION``) → ``bf16`` on AMX CPUs, else ``fp32``."""
    value = (precision or os.environ.get("KB_EMBED_PRECISION") or "auto").strip().lower()
    if value not in PRECISIONS:
        raise ValueError(f"embedding precision must be one of {', '.join(PRECISIONS)}; "
                         f"got {value!r} (KB_EMBED_PRECISION)")
    if value == "auto":
        return "bf16" if cpu_has_fast_bf16() else "fp32"
    return value


#: Tokens of a passage that are embedded (the rest of a passage is still found by BM25);
#: ``KB_EMBED_MAX_TOKENS`` overrides. 192 encodes 1.8× faster than 256 on legal-scale passages
#: (bf16) with the same retrieval quality within noise (ALQAC-22/23 hybrid MRR@10 0.916/0.877
#: vs 0.916/0.886, dense 0.859/0.850 vs 0.849/0.850; cchc-dev R@5 100 % both):
#: docs/benchmarks.md §2.
PASSAGE_TOKENS = 192


def resolve_passage_tokens(tokens: int | None | str = "auto") -> int | None:
    """``"auto"`` → ``KB_EMBED_MAX_TOKENS`` or :data:`PASSAGE_TOKENS`; ``None`` → the model's
    own limit."""
    if tokens != "auto":
        return tokens  # type: ignore[return-value]
    raw = os.environ.get("KB_EMBED_MAX_TOKENS", "").strip()
    if not raw:
        return PASSAGE_TOKENS
    if not raw.isdigit() or int(raw) < 16:
        raise ValueError(f"KB_EMBED_MAX_TOKENS must be a whole number >= 16; got {raw!r}")
    return int(raw)


class Embedder:
    """A sentence-transformers model, loaded on first use.

    ``model`` is any sentence-transformers name or path: the offline folder built by
    ``kb build-model`` or, where a model hub is reachable, e.g. ``intfloat/multilingual-e5-base``.
    """

    def __init__(self, model: str, batch_size: int = 32, device: str = "cpu",
                 precision: str | None = None, max_seq_length: int | None | str = "auto"
                 ) -> None:
        self.model_name = model
        self.batch_size = batch_size
        self.device = device
        #: tokens read per passage: "auto" = KB_EMBED_MAX_TOKENS or PASSAGE_TOKENS; None = the
        #: model's own limit (512 for e5). A legal-scale chunk is 198 tokens on average; BM25
        #: sees all of it.
        self.max_seq_length = resolve_passage_tokens(max_seq_length)
        #: ``fp32`` or ``bf16`` (weights and activations; vectors are always float32,
        #: re-normalised). bf16 vectors agree with fp32 to cosine ≥ 0.998 (measured).
        self.precision = resolve_precision(precision)
        self._model = None
        self._prompts: dict[str, str] = {}

    def _load(self):
        if self._model is None:
            import torch
            import transformers
            from sentence_transformers import SentenceTransformer

            transformers.logging.set_verbosity_error()
            transformers.logging.disable_progress_bar()

            torch.set_num_threads(self.threads)
            path = Path(self.model_name).expanduser()
            if path.exists() and not (path / "modules.json").exists():
                raise FileNotFoundError(
                    f"{path} is not a sentence-transformers model folder (no modules.json); "
                    "build it with 'kb build-model'"
                )
            self._model = SentenceTransformer(str(path) if path.exists() else self.model_name,
                                              device=self.device)
            if self.precision == "bf16":
                self._model.to(torch.bfloat16)
            if self.max_seq_length:
                limit = self._model.max_seq_length or self.max_seq_length
                self._model.max_seq_length = min(limit, self.max_seq_length)
            prompts = dict(getattr(self._model, "prompts", {}) or {})
            if not prompts.get("query") and "e5" in self.model_name.lower():
                prompts = {**E5_PROMPTS, **{k: v for k, v in prompts.items() if v}}
            self._prompts = prompts
            logger.info("loaded embedding model %s (dim %d, %s)", self.model_name,
                        self.dimension, self.precision)
        return self._model

    @property
    def threads(self) -> int:
        """Torch threads for encoding: ``KB_TORCH_THREADS`` or one per CPU."""
        return max(1, int(os.environ.get("KB_TORCH_THREADS", os.cpu_count() or 1)))

    def set_threads(self, n: int) -> None:
        """Encode with ``n`` torch threads from now on (e.g. one core left to another stage)."""
        import torch

        self._load()
        torch.set_num_threads(max(1, n))

    @property
    def dimension(self) -> int:
        model = self._load()
        getter = (getattr(model, "get_embedding_dimension", None)
                  or model.get_sentence_embedding_dimension)
        return int(getter())

    def _encode(self, texts: Sequence[str], kind: str, show_progress: bool) -> np.ndarray:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        prompt = self._prompts.get(kind, "")
        vectors = model.encode(
            list(texts), batch_size=self.batch_size, prompt=prompt, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=show_progress,
        )
        vectors = np.asarray(vectors, dtype=np.float32)
        if self.precision != "fp32":  # bf16 rounding leaves norms ≈ 1 ± 0.01
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, "query", show_progress=False)

    def embed_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        return self._encode(texts, "passage", show_progress=show_progress)


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
