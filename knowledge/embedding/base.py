"""The protocol every encoder backend implements: token ids in, contextual token embeddings
out. Tokenisation, pooling and normalisation are the same for all backends
(:class:`knowledge.retrieval.dense.Embedder`), so backends differ only in how the transformer
runs."""

from __future__ import annotations

from typing import Protocol

import numpy as np


class TokenEncoder(Protocol):
    """A transformer forward pass (loaded on first use, once per process)."""

    #: ``torch`` or ``onnx``
    backend: str
    #: ``fp32``, ``bf16`` or ``int8``
    precision: str

    def token_embeddings(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        """(batch, tokens) int64 ids and mask -> (batch, tokens, hidden) float32."""
        ...

    def set_threads(self, n: int) -> None:
        """Run with ``n`` threads from the next call on."""
        ...

    @property
    def threads(self) -> int:
        """Threads of the next forward pass."""
        ...

    @property
    def hidden_size(self) -> int:
        """Width of the token embeddings (the vectors' dimension)."""
        ...
