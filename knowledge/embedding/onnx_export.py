"""Export the sentence-transformers model folder's transformer to ONNX, plus an int8 variant.

``kb build-model`` calls :func:`export_onnx` on the folder it builds, so the graphs sit inside
the folder (``onnx/model.onnx`` and ``onnx/model_int8.onnx``, the layout sentence-transformers
itself uses) and ONNX Runtime can encode without torch on CPUs where torch is slow.

The graph maps ``input_ids`` and ``attention_mask`` (int64, batch x tokens, both axes dynamic)
to ``token_embeddings`` (float32, batch x tokens x hidden): the last hidden state. Pooling
(mean over the attention mask, or over a sentence's tokens) and normalisation are done by the
caller in numpy, so one graph serves passages, queries and sentence spans alike.

Export uses torch's TorchScript exporter (``dynamo=False``: no onnxscript needed, works
offline), eager attention (no SDPA kernel choice baked into the trace), opset 17; it is
deterministic: the same folder gives byte-identical files. The int8 variant is ONNX Runtime's
dynamic quantisation (``quantize_dynamic``: signed int8 weights with one scale per output
channel for every MatMul and for the embedding Gather, activations quantised per call): of the
variants measured (docs/benchmarks.md §2) the one closest to fp32 among the fast ones — per
tensor scales drift to cosine 0.978, ``reduce_range`` to 0.945, uint8 weights are ~2x slower.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

ONNX_SUBDIR = "onnx"
FP32_FILE = "model.onnx"
INT8_FILE = "model_int8.onnx"
OPSET = 17
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAME = "token_embeddings"


def onnx_paths(model_dir: Path) -> dict[str, Path]:
    """``{"fp32": …, "int8": …}``: where the graphs of ``model_dir`` live."""
    base = Path(model_dir) / ONNX_SUBDIR
    return {"fp32": base / FP32_FILE, "int8": base / INT8_FILE}


def onnx_available(model_dir: str | Path) -> bool:
    """True when both graphs exist in the model folder (set-up exported them)."""
    path = Path(model_dir).expanduser()
    return path.is_dir() and all(p.is_file() for p in onnx_paths(path).values())


def _replace_atomically(write, target: Path) -> None:
    """Call ``write(tmp_path)`` and move the result onto ``target`` (never half a file)."""
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        write(tmp_path)
        tmp_path.chmod(0o644)
        tmp_path.replace(target)
    except BaseException:
        tmp_path.unlink(missing_ok=True)
        raise


def export_fp32(model_dir: Path, out: Path) -> Path:
    """Trace the folder's transformer to ``out`` (fp32 ONNX, one file).

    Args:
        model_dir: a sentence-transformers folder whose transformer sits at its root
            (``config.json`` + ``model.safetensors``, as ``kb build-model`` writes it).
        out: the ``.onnx`` file to write.

    Returns:
        ``out``.
    """
    import torch
    import transformers
    from transformers import AutoModel

    transformers.logging.set_verbosity_error()
    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")
    model.eval()

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask):
            return self.encoder(input_ids=input_ids,
                                attention_mask=attention_mask).last_hidden_state

    # a two-row example with padding, so the traced graph handles masks and any batch size
    pad = int(model.config.pad_token_id or 0)
    bos = int(model.config.bos_token_id or 0)
    eos = int(model.config.eos_token_id or 2)
    word = max(pad, bos, eos) + 1  # any ordinary token id
    ids = torch.tensor([[bos, word, word + 1, word + 2, eos], [bos, word + 3, eos, pad, pad]],
                       dtype=torch.long)
    mask = (ids != pad).long()
    axes = {"batch": 0, "tokens": 1}
    dynamic = {name: {i: a for a, i in axes.items()} for name in (*INPUT_NAMES, OUTPUT_NAME)}
    out.parent.mkdir(parents=True, exist_ok=True)

    def write(path: Path) -> None:
        import warnings

        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # tracer warnings about Python bools in HF code
            torch.onnx.export(TokenEmbeddings(model), (ids, mask), str(path), dynamo=False,
                              input_names=list(INPUT_NAMES), output_names=[OUTPUT_NAME],
                              dynamic_axes=dynamic, opset_version=OPSET,
                              do_constant_folding=True)

    _replace_atomically(write, out)
    logger.info("exported %s to %s", model_dir, out)
    return out


def quantize_int8(source: Path, out: Path) -> Path:
    """ONNX Runtime dynamic int8 quantisation of ``source`` into ``out``."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    def write(path: Path) -> None:
        quantize_dynamic(str(source), str(path), weight_type=QuantType.QInt8,
                         per_channel=True, reduce_range=False)

    _replace_atomically(write, out)
    logger.info("quantised %s to %s", source, out)
    return out


def export_onnx(model_dir: str | Path) -> dict[str, Path]:
    """Write ``onnx/model.onnx`` and ``onnx/model_int8.onnx`` into ``model_dir``.

    Returns:
        the paths, as :func:`onnx_paths`.
    """
    model_dir = Path(model_dir)
    paths = onnx_paths(model_dir)
    export_fp32(model_dir, paths["fp32"])
    quantize_int8(paths["fp32"], paths["int8"])
    return paths
