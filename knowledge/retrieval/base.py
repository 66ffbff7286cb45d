"""The protocol every retriever follows (txtai-style: index / search / save / load)."""

from __future__ import annotations

from enum import Enum
from typing import Protocol

import numpy as np


class Retriever(Protocol):
    """Scores chunks (by row number in the store) for a query."""

    def search(self, query: str, k: int,
               allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top ``k`` (row, score) pairs, best first; ``allowed`` is an optional boolean row mask."""
        ...


class SearchMode(str, Enum):
    """Which retrievers answer a search."""

    HYBRID = "hybrid"
    SPARSE = "sparse"
    DENSE = "dense"

    @classmethod
    def from_str(cls, value: str) -> SearchMode:
        try:
            return cls(value.lower())
        except ValueError:
            choices = ", ".join(m.value for m in cls)
            raise ValueError(f"unknown search mode {value!r}; choose one of: {choices}") from None
