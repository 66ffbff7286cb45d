"""Encoder settings: which backend runs the embedding model, at which precision, how many
passage tokens and threads. Read once from the environment and validated here, in one place.

    KB_EMBED_BACKEND    auto | torch | onnx
    KB_EMBED_PRECISION  auto | fp32 | bf16 | int8
    KB_EMBED_MAX_TOKENS passage tokens embedded (default 192)
    KB_TORCH_THREADS    encoder threads (default: one per CPU); the name is kept from the
                        torch-only days and applies to ONNX Runtime as well

``auto`` resolves per machine (:meth:`EncoderSettings.resolve`): on CPUs with Intel AMX, torch
bf16 (measured 7.6x faster than fp32 there); elsewhere ONNX Runtime with int8 dynamic
quantisation, which on a 2-core AMD EPYC without AMX encodes a query several times faster than
torch fp32 at the same retrieval quality (docs/benchmarks.md §2).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

#: Tokens of a passage that are embedded (the rest of a passage is still found by BM25).
#: 192 encodes 1.8x faster than 256 on legal-scale passages with the same retrieval quality
#: within noise (docs/benchmarks.md §2).
PASSAGE_TOKENS = 192


class EncoderBackend(Enum):
    """What runs the transformer: ``torch`` (transformers, fp32 or bf16) or ``onnx`` (ONNX
    Runtime over the graphs ``kb build-model`` exports, fp32 or int8)."""

    AUTO = "auto"
    TORCH = "torch"
    ONNX = "onnx"

    @classmethod
    def from_str(cls, value: str) -> EncoderBackend:
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise ValueError(f"embedding backend must be one of {', '.join(m.value for m in cls)}"
                             f"; got {value!r} (KB_EMBED_BACKEND)") from None


class Precision(Enum):
    """Numeric precision of the encoder's weights (vectors are always float32, unit length)."""

    AUTO = "auto"
    FP32 = "fp32"
    BF16 = "bf16"
    INT8 = "int8"

    @classmethod
    def from_str(cls, value: str) -> Precision:
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise ValueError(f"embedding precision must be one of "
                             f"{', '.join(m.value for m in cls)}; got {value!r} "
                             "(KB_EMBED_PRECISION)") from None


#: Which precisions each concrete backend runs.
SUPPORTED = {
    EncoderBackend.TORCH: (Precision.FP32, Precision.BF16),
    EncoderBackend.ONNX: (Precision.FP32, Precision.INT8),
}


def cpu_has_fast_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU multiplies bfloat16 in hardware (Intel AMX): there, bf16 weights encode
    about 7.6x faster than fp32 (docs/benchmarks.md §2). Without AMX torch emulates bf16 slowly."""
    try:
        return "amx_bf16" in cpuinfo.read_text(errors="replace")
    except OSError:
        return False


@dataclass(frozen=True)
class EncoderSettings:
    """How passages and queries are encoded.

    Attributes:
        backend: ``auto``, ``torch`` or ``onnx``.
        precision: ``auto``, ``fp32``, ``bf16`` (torch only) or ``int8`` (onnx only).
        passage_tokens: tokens read per passage (queries too; a query is far shorter);
            ``None`` = the model's own limit (512 for e5).
        threads: encoder threads (default: one per CPU).
    """

    backend: EncoderBackend = EncoderBackend.AUTO
    precision: Precision = Precision.AUTO
    passage_tokens: int | None = PASSAGE_TOKENS
    threads: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))

    def __post_init__(self) -> None:
        if not isinstance(self.backend, EncoderBackend):
            object.__setattr__(self, "backend", EncoderBackend.from_str(str(self.backend)))
        if not isinstance(self.precision, Precision):
            object.__setattr__(self, "precision", Precision.from_str(str(self.precision)))
        if self.passage_tokens is not None and (
                isinstance(self.passage_tokens, bool) or not isinstance(self.passage_tokens, int)
                or self.passage_tokens < 16):
            raise ValueError("passage tokens must be a whole number >= 16 (KB_EMBED_MAX_TOKENS); "
                             f"got {self.passage_tokens!r}")
        if not isinstance(self.threads, int) or self.threads < 1:
            raise ValueError(f"encoder threads must be >= 1 (KB_TORCH_THREADS); "
                             f"got {self.threads!r}")
        if self.backend in SUPPORTED and self.precision is not Precision.AUTO \
                and self.precision not in SUPPORTED[self.backend]:
            allowed = ", ".join(p.value for p in SUPPORTED[self.backend])
            raise ValueError(f"the {self.backend.value} backend runs {allowed}, not "
                             f"{self.precision.value} (KB_EMBED_BACKEND / KB_EMBED_PRECISION)")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides) -> EncoderSettings:
        """Read ``KB_EMBED_BACKEND``, ``KB_EMBED_PRECISION``, ``KB_EMBED_MAX_TOKENS`` and
        ``KB_TORCH_THREADS``; keyword ``overrides`` (not None) win."""
        env = os.environ if environ is None else environ
        values: dict = {}
        if env.get("KB_EMBED_BACKEND", "").strip():
            values["backend"] = EncoderBackend.from_str(env["KB_EMBED_BACKEND"])
        if env.get("KB_EMBED_PRECISION", "").strip():
            values["precision"] = Precision.from_str(env["KB_EMBED_PRECISION"])
        raw = env.get("KB_EMBED_MAX_TOKENS", "").strip()
        if raw:
            if not raw.isdigit() or int(raw) < 16:
                raise ValueError(f"KB_EMBED_MAX_TOKENS must be a whole number >= 16; got {raw!r}")
            values["passage_tokens"] = int(raw)
        raw = env.get("KB_TORCH_THREADS", "").strip()
        if raw:
            if not raw.isdigit() or int(raw) < 1:
                raise ValueError(f"KB_TORCH_THREADS must be a whole number >= 1; got {raw!r}")
            values["threads"] = int(raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def resolve(self, amx: bool | None = None, onnx_available: bool = True
                ) -> tuple[EncoderBackend, Precision]:
        """The concrete backend and precision on this machine.

        Args:
            amx: whether the CPU has AMX (read from /proc/cpuinfo when None).
            onnx_available: whether the model folder holds the ONNX graphs; ``auto`` falls
                back to torch without them (an explicit ``onnx`` fails when loading).
        """
        amx = cpu_has_fast_bf16() if amx is None else amx
        backend, precision = self.backend, self.precision
        if backend is EncoderBackend.AUTO:
            if precision is Precision.BF16 or (precision is Precision.AUTO and amx):
                backend = EncoderBackend.TORCH
            elif precision is Precision.INT8 or onnx_available:
                backend = EncoderBackend.ONNX
            else:
                backend = EncoderBackend.TORCH
        if precision is Precision.AUTO:
            if backend is EncoderBackend.TORCH:
                precision = Precision.BF16 if amx else Precision.FP32
            else:
                precision = Precision.INT8
        return backend, precision
