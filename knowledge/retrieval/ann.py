"""Approximate dense search for large corpora: faiss HNSW over normalised vectors.

:class:`HNSWIndex` has the interface of :class:`knowledge.retrieval.dense.DenseIndex`
(``len()``, ``search_vector(query, k, allowed)``) plus ``save`` / ``load``, so the knowledge base
can use either. :func:`build_dense_index` picks exact search for small indexes (where a flat
scan is already fast and exact) and HNSW above ``exact_threshold`` vectors.

Filtered search (``allowed``, a boolean row mask from the metadata filters): when few rows are
allowed an exact scan of just those rows is both faster and exact; otherwise the graph is
searched with a faiss ID selector and an ``efSearch`` raised in proportion to how much the
filter removes, so ``k`` allowed hits are still found.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

#: Below this many vectors an exact flat scan is used (measured: docs/benchmarks.md).
DEFAULT_EXACT_THRESHOLD = 200_000
FORMAT_VERSION = 1


class HNSWIndex:
    """faiss ``IndexHNSWFlat`` with inner product (= cosine on normalised vectors).

    Args:
        vectors: ``(n, d)`` float32 rows; row ``i`` is chunk ``i``. More can be added with
            :meth:`add`.
        m: graph degree (memory ≈ ``n · (4·d + 8·m)`` bytes).
        ef_construction: build-time beam width (higher = better graph, slower build).
        ef_search: query-time beam width (higher = better recall, slower queries). 256: on
            1,000,000 synthetic vectors recall@10 is 0.949 at 64, 0.967 at 128 and 0.993 at
            256, for 0.27 / 0.41 / 0.58 ms p50 (docs/benchmarks.md §3); HNSW is only used past
            ``DEFAULT_EXACT_THRESHOLD`` vectors, where recall needs the wider beam.
        filter_exact_limit: a filtered search allowing at most this many rows scans them
            exactly instead of walking the graph.
    """

    def __init__(self, vectors: np.ndarray | None = None, dimension: int | None = None,
                 m: int = 32, ef_construction: int = 80, ef_search: int = 256,
                 filter_exact_limit: int = 50_000) -> None:
        import faiss

        if vectors is not None and np.asarray(vectors).ndim == 2:
            dimension = int(np.asarray(vectors).shape[1])
        if not dimension or dimension < 1:
            raise ValueError("HNSWIndex needs 2-d vectors or a dimension")
        if m < 2 or ef_construction < 1 or ef_search < 1:
            raise ValueError(f"bad HNSW parameters m={m} ef_construction={ef_construction} "
                             f"ef_search={ef_search}")
        self.dimension = dimension
        self.m = m
        self.ef_search = ef_search
        self.filter_exact_limit = filter_exact_limit
        self._index = faiss.IndexHNSWFlat(dimension, m, faiss.METRIC_INNER_PRODUCT)
        self._index.hnsw.efConstruction = ef_construction
        self._index.hnsw.efSearch = ef_search
        if vectors is not None and len(vectors):
            self.add(vectors)

    def add(self, vectors: np.ndarray) -> None:
        """Append rows (their row numbers continue from ``len(self)``)."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dimension:
            raise ValueError(f"expected (n, {self.dimension}) vectors, got {vectors.shape}")
        self._index.add(vectors)

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def search_vector(self, query: np.ndarray, k: int,
                      allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (row, score) pairs, best first; ``allowed`` is an optional row mask."""
        import faiss

        n = len(self)
        if n == 0 or k <= 0:
            return []
        query = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if allowed is None:
            params = faiss.SearchParametersHNSW(efSearch=max(self.ef_search, k))
            scores, rows = self._index.search(query, min(k, n), params=params)
            return _pairs(rows[0], scores[0])
        allowed = np.asarray(allowed, dtype=bool)
        if allowed.shape != (n,):
            raise ValueError(f"allowed must be a boolean mask of {n} rows")
        ids = np.flatnonzero(allowed)
        if ids.size == 0:
            return []
        if ids.size <= self.filter_exact_limit:
            return self._exact_subset(query[0], ids, k)
        bitmap = np.packbits(allowed, bitorder="little")
        selector = faiss.IDSelectorBitmap(n, faiss.swig_ptr(bitmap))
        ef = int(min(max(self.ef_search, k) * n / ids.size, 4096))
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(ef, k))
        scores, rows = self._index.search(query, min(k, ids.size), params=params)
        return _pairs(rows[0], scores[0])

    def _exact_subset(self, query: np.ndarray, ids: np.ndarray,
                      k: int) -> list[tuple[int, float]]:
        vectors = self._index.reconstruct_batch(ids.astype(np.int64))
        scores = vectors @ query
        k = min(k, ids.size)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.lexsort((ids[top], -scores[top]))]
        return [(int(ids[i]), float(scores[i])) for i in top]

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """Write the index into the folder ``path`` (``hnsw.faiss`` + ``ann.json``)."""
        import faiss

        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        faiss.write_index(self._index, str(path / "hnsw.faiss"))
        meta = {"format_version": FORMAT_VERSION, "kind": "hnsw", "dimension": self.dimension,
                "count": len(self), "m": self.m, "ef_search": self.ef_search,
                "filter_exact_limit": self.filter_exact_limit}
        (path / "ann.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, path: Path) -> HNSWIndex:
        """Read an index written by :meth:`save`; refuses another format or a torn write."""
        import faiss

        path = Path(path)
        meta = json.loads((path / "ann.json").read_text())
        if meta.get("format_version") != FORMAT_VERSION or meta.get("kind") != "hnsw":
            raise ValueError(f"{path} is not an HNSW index of format {FORMAT_VERSION}")
        index = faiss.read_index(str(path / "hnsw.faiss"))
        if index.ntotal != meta["count"] or index.d != meta["dimension"]:
            raise ValueError(f"{path}: index holds {index.ntotal}×{index.d} vectors, manifest "
                             f"says {meta['count']}×{meta['dimension']}")
        self = cls.__new__(cls)
        self.dimension = int(meta["dimension"])
        self.m = int(meta["m"])
        self.ef_search = int(meta["ef_search"])
        self.filter_exact_limit = int(meta["filter_exact_limit"])
        self._index = index
        self._index.hnsw.efSearch = self.ef_search
        return self


def _pairs(rows: np.ndarray, scores: np.ndarray) -> list[tuple[int, float]]:
    return [(int(r), float(s)) for r, s in zip(rows, scores, strict=True) if r >= 0]


def build_dense_index(vectors: np.ndarray, exact_threshold: int = DEFAULT_EXACT_THRESHOLD,
                      **hnsw_options):
    """Exact :class:`~knowledge.retrieval.dense.DenseIndex` below ``exact_threshold`` rows,
    :class:`HNSWIndex` (with ``hnsw_options``) from there on."""
    from knowledge.retrieval.dense import DenseIndex

    if len(vectors) < exact_threshold:
        return DenseIndex(vectors)
    logger.info("%d vectors: approximate (HNSW) dense search", len(vectors))
    return HNSWIndex(vectors, **hnsw_options)
