"""BM25 over Vietnamese terms (see :class:`knowledge.text.segment.TermAnalyzer`).

The BM25 weight of every (chunk, term) pair is precomputed into a sparse matrix, so a query
costs one sparse column slice and a sum.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy import sparse


class BM25Index:
    """Okapi BM25 (k1, b) with Lucene's idf ``log(1 + (N - df + 0.5) / (df + 0.5))``."""

    def __init__(self, k1: float = 1.2, b: float = 0.75) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1 = k1
        self.b = b
        self.vocabulary: dict[str, int] = {}
        self.weights = sparse.csc_matrix((0, 0), dtype=np.float32)
        self.idf = np.zeros(0, dtype=np.float32)

    def __len__(self) -> int:
        return self.weights.shape[0]

    def fit(self, documents: Sequence[Sequence[str]]) -> BM25Index:
        """Index term lists, one per chunk (row order = chunk order)."""
        rows, cols, tfs = [], [], []
        vocab: dict[str, int] = {}
        lengths = np.zeros(len(documents), dtype=np.float32)
        for row, terms in enumerate(documents):
            lengths[row] = len(terms)
            for term, tf in Counter(terms).items():
                col = vocab.setdefault(term, len(vocab))
                rows.append(row)
                cols.append(col)
                tfs.append(tf)
        n = len(documents)
        tf = np.asarray(tfs, dtype=np.float32)
        rows_a = np.asarray(rows, dtype=np.int64)
        cols_a = np.asarray(cols, dtype=np.int64)
        df = np.bincount(cols_a, minlength=len(vocab)).astype(np.float32)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        avgdl = float(lengths.mean()) if n else 1.0
        norm = self.k1 * (1 - self.b + self.b * lengths[rows_a] / max(avgdl, 1e-9))
        weight = idf[cols_a] * tf * (self.k1 + 1) / (tf + norm)
        self.vocabulary = vocab
        self.idf = idf.astype(np.float32)
        self.weights = sparse.csc_matrix(
            (weight.astype(np.float32), (rows_a, cols_a)), shape=(n, len(vocab))
        )
        return self

    def save(self, folder: Path) -> None:
        """Write the weights (CSC arrays), idf and vocabulary into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        weights = self.weights.tocsc()
        np.save(folder / "bm25_data.npy", weights.data.astype(np.float32))
        np.save(folder / "bm25_indices.npy", weights.indices.astype(np.int32))
        np.save(folder / "bm25_indptr.npy", weights.indptr.astype(np.int64))
        np.save(folder / "bm25_idf.npy", self.idf.astype(np.float32))
        (folder / "bm25.json").write_text(json.dumps(
            {"k1": self.k1, "b": self.b, "rows": int(weights.shape[0]),
             "vocabulary": self.vocabulary}, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path, mmap: bool = True) -> BM25Index:
        """Read what :meth:`save` wrote; the arrays are memory-mapped (shared between the
        processes that read the same index), nothing is recomputed."""
        folder = Path(folder)
        meta = json.loads((folder / "bm25.json").read_text(encoding="utf-8"))
        mode = "r" if mmap else None
        data = np.load(folder / "bm25_data.npy", mmap_mode=mode)
        indices = np.load(folder / "bm25_indices.npy", mmap_mode=mode)
        indptr = np.load(folder / "bm25_indptr.npy", mmap_mode=mode)
        index = cls(meta["k1"], meta["b"])
        index.vocabulary = meta["vocabulary"]
        index.idf = np.load(folder / "bm25_idf.npy")
        index.weights = sparse.csc_matrix((data, indices, indptr),
                                          shape=(meta["rows"], len(index.vocabulary)),
                                          copy=False)
        return index

    def term_idf(self, term: str) -> float:
        """idf of ``term``; unseen terms get the highest idf of the vocabulary."""
        col = self.vocabulary.get(term)
        if col is None:
            return float(self.idf.max()) if self.idf.size else 1.0
        return float(self.idf[col])

    def scores(self, terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every chunk for the query ``terms``."""
        counts = Counter(t for t in terms if t in self.vocabulary)
        out = np.zeros(len(self), dtype=np.float32)
        if not counts:
            return out
        cols = [self.vocabulary[t] for t in counts]
        qtf = np.asarray(list(counts.values()), dtype=np.float32)
        out += np.asarray(self.weights[:, cols] @ qtf).ravel()
        return out

    def search_terms(self, terms: Sequence[str], k: int,
                     allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        scores = self.scores(terms)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        return top_k(scores, k)


def top_k(scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """Indices and values of the ``k`` largest positive scores, best first."""
    if k <= 0 or scores.size == 0:
        return []
    k = min(k, scores.size)
    idx = np.argpartition(-scores, k - 1)[:k]
    idx = idx[np.argsort(-scores[idx], kind="stable")]
    return [(int(i), float(scores[i])) for i in idx if scores[i] > 0]
