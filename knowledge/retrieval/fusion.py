"""Combining ranked lists from several retrievers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence


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
