"""From contextual token embeddings to unit vectors: mean pooling over the attention mask (a
whole text, as sentence-transformers' ``Pooling`` + ``Normalize`` do) or over a character span
(a sentence inside a passage), plus the mapping of character spans to token ranges."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def mean_pool(token_embeddings: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
    """Unit-length mean of each row's unmasked token embeddings.

    Args:
        token_embeddings: (batch, tokens, hidden).
        attention_mask: (batch, tokens), 1 for real tokens.

    Returns:
        (batch, hidden) float32.
    """
    mask = attention_mask.astype(np.float32)[..., None]
    summed = (token_embeddings.astype(np.float32) * mask).sum(axis=1)
    return normalize(summed / np.maximum(mask.sum(axis=1), 1e-9))


def span_pool(token_embeddings: np.ndarray, ranges: Sequence[tuple[int, int]],
              extra_rows: Sequence[int] = ()) -> np.ndarray:
    """Unit-length mean of ``token_embeddings[start:end]`` (plus the ``extra_rows``, e.g. the
    ``<s>``/prompt/``</s>`` tokens of the text) for each token range.

    Args:
        token_embeddings: (tokens, hidden) of one text.
        ranges: (start, end) token indices, end exclusive and > start.
        extra_rows: token indices added to every span's mean (outside the ranges).

    Returns:
        (len(ranges), hidden) float32.
    """
    hidden = token_embeddings.shape[-1]
    if not ranges:
        return np.zeros((0, hidden), dtype=np.float32)
    # prefix sums: each span's sum in O(1)
    cumulative = np.zeros((token_embeddings.shape[0] + 1, hidden), dtype=np.float64)
    np.cumsum(token_embeddings, axis=0, out=cumulative[1:])
    starts = np.array([r[0] for r in ranges])
    ends = np.array([r[1] for r in ranges])
    extra = list(extra_rows)
    extra_sum = token_embeddings[extra].sum(axis=0, dtype=np.float64) if extra else 0.0
    sums = cumulative[ends] - cumulative[starts] + extra_sum
    return normalize(sums / (ends - starts + len(extra))[:, None])


def token_range(offsets: Sequence[tuple[int, int]], special: Sequence[int], start: int,
                end: int) -> tuple[int, int] | None:
    """The tokens whose characters overlap ``[start, end)``: (first, last + 1), or None.

    Args:
        offsets: per token, its (char_start, char_end) in the encoded string.
        special: per token, 1 for special tokens (``<s>``, ``</s>``), which never belong to a
            span.
        start, end: the span's characters in the same string.
    """
    first = last = None
    for i, ((a, b), is_special) in enumerate(zip(offsets, special, strict=True)):
        if is_special or b <= a:
            continue
        if a < end and b > start:
            if first is None:
                first = i
            last = i
        elif a >= end:
            break
    return None if first is None else (first, last + 1)
