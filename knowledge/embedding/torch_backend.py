"""The transformer run by torch (transformers' ``AutoModel``), in fp32 or bf16 weights.

bf16 is fast only on CPUs with Intel AMX (7.6x fp32 there); elsewhere torch emulates it and it
is slower than fp32 (docs/benchmarks.md §2)."""

from __future__ import annotations

import logging
import threading

import numpy as np

logger = logging.getLogger(__name__)


class TorchEncoder:
    """:class:`~knowledge.embedding.base.TokenEncoder` on torch, loaded on first use."""

    backend = "torch"

    def __init__(self, model: str, precision: str = "fp32", threads: int = 1,
                 device: str = "cpu") -> None:
        if precision not in ("fp32", "bf16"):
            raise ValueError(f"the torch backend runs fp32 or bf16, not {precision}")
        self.model_name = model
        self.precision = precision
        self._threads = threads
        self.device = device
        self._model = None
        self._lock = threading.Lock()

    def _load(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    import torch
                    import transformers
                    from transformers import AutoModel

                    transformers.logging.set_verbosity_error()
                    transformers.logging.disable_progress_bar()
                    torch.set_num_threads(self._threads)
                    model = AutoModel.from_pretrained(self.model_name)
                    model.eval()
                    model.to(self.device)
                    if self.precision == "bf16":
                        model.to(torch.bfloat16)
                    self._model = model
                    logger.info("loaded %s on torch (%s)", self.model_name, self.precision)
        return self._model

    @property
    def hidden_size(self) -> int:
        return int(self._load().config.hidden_size)

    @property
    def threads(self) -> int:
        """Threads of the next forward pass."""
        return self._threads

    def set_threads(self, n: int) -> None:
        import torch

        self._threads = max(1, n)
        torch.set_num_threads(self._threads)

    def token_embeddings(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        import torch

        model = self._load()
        with torch.inference_mode():
            ids = torch.from_numpy(np.ascontiguousarray(input_ids)).to(self.device)
            mask = torch.from_numpy(np.ascontiguousarray(attention_mask)).to(self.device)
            out = model(input_ids=ids, attention_mask=mask)
        return out.last_hidden_state.float().cpu().numpy()
