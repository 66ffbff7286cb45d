"""The transformer run by ONNX Runtime over the graphs ``kb build-model`` exports
(:mod:`knowledge.embedding.onnx_export`): fp32, or int8 weights (dynamic quantisation).

ONNX Runtime fixes a session's thread count when the session is made, so one session is kept
per thread count asked for (the indexer alternates between all cores and all but one)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import numpy as np

from knowledge.embedding.onnx_export import INPUT_NAMES, onnx_paths

logger = logging.getLogger(__name__)


class OnnxEncoder:
    """:class:`~knowledge.embedding.base.TokenEncoder` on ONNX Runtime, loaded on first use."""

    backend = "onnx"

    def __init__(self, model_dir: str | Path, precision: str = "int8", threads: int = 1) -> None:
        if precision not in ("fp32", "int8"):
            raise ValueError(f"the onnx backend runs fp32 or int8, not {precision}")
        self.model_dir = Path(model_dir)
        self.precision = precision
        self.path = onnx_paths(self.model_dir)[precision]
        self._threads = max(1, threads)
        self._sessions: dict[int, object] = {}
        self._lock = threading.Lock()

    def _session(self):
        threads = self._threads
        session = self._sessions.get(threads)
        if session is None:
            with self._lock:
                session = self._sessions.get(threads)
                if session is None:
                    session = self._make_session(threads)
                    self._sessions[threads] = session
        return session

    def _make_session(self, threads: int):
        import onnxruntime as ort

        if not self.path.is_file():
            raise FileNotFoundError(
                f"{self.path} is missing: the ONNX export of the embedding model is made by "
                "'kb build-model' (make setup); or set KB_EMBED_BACKEND=torch")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        session = ort.InferenceSession(str(self.path), options,
                                       providers=["CPUExecutionProvider"])
        logger.info("loaded %s on ONNX Runtime %s (%d threads)", self.path, ort.__version__,
                    threads)
        return session

    @property
    def hidden_size(self) -> int:
        shape = self._session().get_outputs()[0].shape
        return int(shape[-1])

    @property
    def threads(self) -> int:
        """Threads of the next forward pass."""
        return self._threads

    def set_threads(self, n: int) -> None:
        self._threads = max(1, n)

    def token_embeddings(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feeds = dict(zip(INPUT_NAMES, (np.ascontiguousarray(input_ids, dtype=np.int64),
                                       np.ascontiguousarray(attention_mask, dtype=np.int64)),
                         strict=True))
        return self._session().run(None, feeds)[0]
