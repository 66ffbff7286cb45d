"""Shared helpers of the benchmarks: paths, machine description, tables, JSON output, an
embedding cache, and the retrieval metrics."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.config import DEFAULT_MODEL_DIR, PROJECT_ROOT
from knowledge.embedding.settings import cpu_has_fast_bf16
from knowledge.retrieval.dense import Embedder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

OUT_DIR = PROJECT_ROOT / "var" / "benchmarks"


def _shared_dir() -> Path:
    """The shared data folder: ``$CCHC_SHARED``, else ``../shared`` beside the checkout, else
    the nearest ``shared`` folder above it (a worktree in ``/work/wt/NAME`` finds
    ``/work/shared``)."""
    if os.environ.get("CCHC_SHARED"):
        return Path(os.environ["CCHC_SHARED"])
    for parent in PROJECT_ROOT.parents:
        if (parent / "shared").is_dir():
            return parent / "shared"
    return PROJECT_ROOT.parent / "shared"


SHARED = _shared_dir()
ALQAC_DIR = SHARED / "benchmarks" / "alqac"
SCALE_DIR = SHARED / "corpus" / "legal-scale" / "docs"
MODEL = str(DEFAULT_MODEL_DIR)


def machine() -> dict:
    """What the figures were measured on (CPU model, whether it has AMX), and how busy the
    machine was."""
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "cpu": cpu,
        "amx": cpu_has_fast_bf16(),
        "cores": os.cpu_count(),
        "loadavg_at_start": os.getloadavg(),
        "python": platform.python_version(),
        "nice": os.nice(0),
    }


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_children_mb() -> float:
    """Peak resident memory of the largest finished child process (e.g. a worker)."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def current_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def write_json(name: str, data: dict) -> Path:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    path = OUT_DIR / f"{name}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=_jsonable) + "\n")
    return path


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def table(rows: Sequence[dict], columns: Sequence[str] | None = None) -> str:
    """A fixed-width text table of ``rows`` (floats with 4 decimals)."""
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())

    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:.4f}" if abs(value) < 1000 else f"{value:.1f}"
        return str(value)

    cells = [[cell(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def percentile_ms(seconds: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(seconds) * 1000, q)) if len(seconds) else float("nan")


# -- metrics ----------------------------------------------------------------------------------
def first_relevant_rank(ranked_docs: Sequence[str], relevant: set[str]) -> int:
    """1-based rank of the first relevant document, 0 when none is ranked."""
    for rank, doc in enumerate(ranked_docs, start=1):
        if doc in relevant:
            return rank
    return 0


def retrieval_metrics(ranks: Sequence[int]) -> dict:
    """R@1, R@5, R@10 and MRR@10 from first-relevant ranks (0 = not found)."""
    n = max(len(ranks), 1)
    return {
        "r@1": sum(1 for r in ranks if r == 1) / n,
        "r@5": sum(1 for r in ranks if 0 < r <= 5) / n,
        "r@10": sum(1 for r in ranks if 0 < r <= 10) / n,
        "mrr@10": sum(1 / r for r in ranks if 0 < r <= 10) / n,
    }


# -- an embedding cache -------------------------------------------------------------------------
class CachedEmbedder(Embedder):
    """An :class:`Embedder` that remembers passage vectors on disk, keyed by text.

    Benchmarks re-index the same articles under several settings (and ALQAC-22/23 share most
    of their articles); embedding is the slow part on CPU, so each passage is embedded once.
    ``tag`` separates caches of different encoder settings (e.g. quantised).
    """

    def __init__(self, model: str = MODEL, tag: str | None = None, **kwargs) -> None:
        super().__init__(model, **kwargs)
        # vectors of different encoder settings never mix: "onnx-int8-192", "torch-fp32-full"…
        tag = tag or f"{self.backend}-{self.precision}-{self.max_seq_length or 'full'}"
        self.cache_dir = OUT_DIR / "cache" / f"{Path(model).name}-{tag}"
        self._vectors: dict[str, np.ndarray] = {}
        self._dirty = False
        self._read()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def _read(self) -> None:
        keys = self.cache_dir / "keys.json"
        if keys.exists():
            names = json.loads(keys.read_text())
            vectors = np.load(self.cache_dir / "vectors.npy")
            self._vectors = dict(zip(names, vectors, strict=True))

    def save(self) -> None:
        if not self._dirty:
            return
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        names = list(self._vectors)
        np.save(self.cache_dir / "vectors.npy", np.vstack([self._vectors[k] for k in names]))
        (self.cache_dir / "keys.json").write_text(json.dumps(names))
        self._dirty = False

    def embed_passages(self, texts: Sequence[str], show_progress: bool = False) -> np.ndarray:
        keys = [self.key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._vectors))
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            vectors = super().embed_passages([by_key[k] for k in missing], show_progress)
            self._vectors.update(zip(missing, vectors, strict=True))
            self._dirty = True
            self.save()
        if not keys:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([self._vectors[k] for k in keys]).astype(np.float32)
