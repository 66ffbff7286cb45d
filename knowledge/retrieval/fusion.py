"""Combining the ranked lists of several retrievers: reciprocal rank fusion, and score
normalisation with a convex combination.

Every function takes one list of ``(row, score)`` pairs per retriever, best first, and returns
the fused ``(row, score)`` list, best first (ties broken by row). All functions are pure.

Convex combination (``score(d) = Σ w_i · norm_i(score_i(d))``) keeps how *much* better the top
hit is than the rest, which RRF throws away; on ALQAC law retrieval it beats RRF (see
docs/benchmarks.md). A document missing from a retriever's list gets that list's lowest
normalised score (0 for min-max): it was at best as good as the last candidate shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from enum import Enum

import numpy as np

Ranking = Sequence[tuple[int, float]]


def reciprocal_rank_fusion(
    rankings: Sequence[Sequence[tuple[int, float]]],
    weights: Sequence[float] | None = None,
    k: int = 60,
) -> list[tuple[int, float]]:
    """RRF: ``score(d) = Σ w_i / (k + rank_i(d))`` (ranks from 1). Returns (row, score), best first.

    >>> reciprocal_rank_fusion([[(1, 9.0), (2, 3.0)], [(2, 0.8), (3, 0.5)]])[0][0]
    2
    """
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking is needed")
    fused: dict[int, float] = defaultdict(float)
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, (row, _score) in enumerate(ranking, start=1):
            fused[row] += weight / (k + rank)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


class FusionMode(str, Enum):
    """How the rankings of several retrievers are combined."""

    RRF = "rrf"  # reciprocal rank fusion: ranks only
    MINMAX = "minmax"  # convex combination of min-max normalised scores
    ZSCORE = "zscore"  # convex combination of z-score normalised scores

    @classmethod
    def from_str(cls, value: str) -> FusionMode:
        try:
            return cls(value.lower())
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown fusion mode {value!r}; choose one of: {choices}") from None


def normalize_scores(ranking: Ranking, method: FusionMode) -> dict[int, float]:
    """Scores of one ranking mapped to a comparable scale.

    ``MINMAX``: ``(s - min) / (max - min)`` in [0, 1] (all equal → 1). ``ZSCORE``:
    ``(s - mean) / std`` (std 0 → 0).

    >>> normalize_scores([(7, 10.0), (3, 6.0), (5, 2.0)], FusionMode.MINMAX)
    {7: 1.0, 3: 0.5, 5: 0.0}
    """
    if not ranking:
        return {}
    rows = [row for row, _ in ranking]
    scores = np.asarray([score for _, score in ranking], dtype=np.float64)
    if method is FusionMode.MINMAX:
        low, span = scores.min(), scores.max() - scores.min()
        norm = (scores - low) / span if span > 0 else np.ones_like(scores)
    elif method is FusionMode.ZSCORE:
        std = scores.std()
        norm = (scores - scores.mean()) / std if std > 0 else np.zeros_like(scores)
    else:
        raise ValueError(f"{method.value} is not a score normalisation")
    return {row: float(v) for row, v in zip(rows, norm, strict=True)}


def convex_combination(rankings: Sequence[Ranking], weights: Sequence[float] | None = None,
                       method: FusionMode = FusionMode.MINMAX) -> list[tuple[int, float]]:
    """``score(d) = Σ w_i · norm_i(d)`` over the union of the rankings (see module doc).

    With two retrievers, weights ``(1 - α, α)`` are the usual convex combination.

    >>> convex_combination([[(1, 9.0), (2, 8.0), (3, 1.0)], [(3, 0.9), (2, 0.8), (4, 0.1)]],
    ...                    [0.5, 0.5])[0][0]
    2
    """
    weights = list(weights) if weights is not None else [1.0] * len(rankings)
    if len(weights) != len(rankings):
        raise ValueError("one weight per ranking is needed")
    normalized = [normalize_scores(r, method) for r in rankings]
    rows = {row for norm in normalized for row in norm}
    fused: dict[int, float] = defaultdict(float)
    for norm, weight in zip(normalized, weights, strict=True):
        if not norm or weight == 0:
            continue
        floor = min(norm.values())
        for row in rows:
            fused[row] += weight * norm.get(row, floor)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def fuse(rankings: Sequence[Ranking], mode: FusionMode = FusionMode.RRF,
         weights: Sequence[float] | None = None, rrf_k: int = 60) -> list[tuple[int, float]]:
    """Combine ``rankings`` with ``mode`` (RRF uses ``rrf_k``; the others ignore it)."""
    if mode is FusionMode.RRF:
        return reciprocal_rank_fusion(rankings, weights, k=rrf_k)
    return convex_combination(rankings, weights, method=mode)
