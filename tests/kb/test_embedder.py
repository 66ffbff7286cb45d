"""The embedder's speed settings: bf16 where the CPU has AMX, a passage token limit."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.retrieval.dense import Embedder, cpu_has_fast_bf16, resolve_precision

SENTENCES = [
    "Năm 2018, tỉnh Quảng Bình kiểm tra công tác cải cách hành chính tại 10 đơn vị.",
    "Cắt giảm tối thiểu 20% chế độ báo cáo định kỳ.",
    "Ủy ban nhân dân tỉnh ban hành kế hoạch kiểm tra năm 2016.",
]


def test_bf16_only_on_cpus_with_amx(tmp_path, monkeypatch):
    amx, plain = tmp_path / "amx", tmp_path / "plain"
    amx.write_text("flags\t\t: fpu avx2 avx512f amx_bf16 amx_tile amx_int8\n")
    plain.write_text("flags\t\t: fpu avx2 avx512f avx512_bf16\n")
    assert cpu_has_fast_bf16(amx) and not cpu_has_fast_bf16(plain)
    assert not cpu_has_fast_bf16(tmp_path / "missing")

    monkeypatch.delenv("KB_EMBED_PRECISION", raising=False)
    assert resolve_precision() in ("bf16", "fp32")
    assert resolve_precision("fp32") == "fp32" and resolve_precision("BF16") == "bf16"
    monkeypatch.setenv("KB_EMBED_PRECISION", "fp32")
    assert resolve_precision() == "fp32"
    monkeypatch.setenv("KB_EMBED_PRECISION", "fp8")
    with pytest.raises(ValueError, match="KB_EMBED_PRECISION"):
        resolve_precision()


def test_bf16_vectors_agree_with_fp32(model_dir):
    fp32 = Embedder(str(model_dir), precision="fp32").embed_passages(SENTENCES)
    bf16 = Embedder(str(model_dir), precision="bf16").embed_passages(SENTENCES)
    assert bf16.dtype == np.float32
    assert np.allclose(np.linalg.norm(bf16, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(fp32 * bf16, axis=1))) >= 0.995


def test_passages_are_cut_at_the_token_limit(model_dir):
    long_text = " ".join(SENTENCES * 40)  # ≈ 1,000 tokens
    cut = Embedder(str(model_dir), precision="fp32", max_seq_length=64)
    full = Embedder(str(model_dir), precision="fp32", max_seq_length=None)
    assert cut._load().max_seq_length == 64
    assert full._load().max_seq_length == 512  # the model's own limit
    longer = long_text[:400] + " Thêm một đoạn hoàn toàn khác ở phía sau. " * 80
    # the cut embedder sees only a passage's head: two passages sharing a head look the same
    a, b = cut.embed_passages([long_text, longer])
    assert float(a @ b) > 0.9999
    a, b = full.embed_passages([long_text, longer])
    assert float(a @ b) < 0.99
