"""The embedder: settings, backends (torch fp32/bf16, ONNX Runtime fp32/int8) giving the same
vectors, the passage token limit, and sentence vectors pooled from a passage's forward pass."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

from knowledge.embedding.settings import (
    EncoderBackend,
    EncoderSettings,
    Precision,
    cpu_has_fast_bf16,
)
from knowledge.retrieval.dense import Embedder

SENTENCES = [
    "Năm 2018, tỉnh Quảng Bình kiểm tra công tác cải cách hành chính tại 10 đơn vị.",
    "Cắt giảm tối thiểu 20% chế độ báo cáo định kỳ.",
    "Ủy ban nhân dân tỉnh ban hành kế hoạch kiểm tra năm 2016.",
    "nam 2018 kiem tra cchc o dau",
]
QUESTIONS = [
    "Kế hoạch CCHC năm 2019 của tỉnh Kon Tum là kế hoạch số mấy?",
    "Chỉ số PAR INDEX năm 2022 của Bình Dương xếp thứ mấy?",
    "ai ky quyet dinh thanh lap doan kiem tra",
]
PASSAGE = ("Ngày 18/4/2019, UBND tỉnh Quảng Trị ban hành Kế hoạch số 1629/KH-UBND. "
           "Đối tượng kiểm tra là các sở, ban, ngành.  Thời gian kiểm tra trong quý II/2019.")

#: Measured minimum cosine of int8 ONNX vectors to torch fp32 on these fixtures and on 200
#: questions / 64 passages (docs/benchmarks.md §2); the assertion leaves a small margin.
INT8_MIN_COSINE = 0.97


# -- settings ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("env", "message"), [
    ({"KB_EMBED_BACKEND": "tensorrt"}, "one of auto, torch, onnx.*KB_EMBED_BACKEND"),
    ({"KB_EMBED_PRECISION": "fp8"}, "precision must be one of auto, fp32, bf16, int8"),
    ({"KB_EMBED_BACKEND": "onnx", "KB_EMBED_PRECISION": "bf16"}, "onnx backend runs fp32, int8"),
    ({"KB_EMBED_BACKEND": "torch", "KB_EMBED_PRECISION": "int8"}, "torch backend runs fp32, bf16"),
    ({"KB_EMBED_MAX_TOKENS": "nhiều"}, "KB_EMBED_MAX_TOKENS"),
    ({"KB_EMBED_MAX_TOKENS": "8"}, "KB_EMBED_MAX_TOKENS"),
    ({"KB_TORCH_THREADS": "0"}, "KB_TORCH_THREADS"),
])
def test_settings_are_validated_with_clear_errors(env, message):
    with pytest.raises(ValueError, match=message):
        EncoderSettings.from_env(env)


def test_settings_from_env():
    settings = EncoderSettings.from_env({"KB_EMBED_BACKEND": " ONNX ", "KB_EMBED_PRECISION":
                                         "Int8", "KB_EMBED_MAX_TOKENS": "256",
                                         "KB_TORCH_THREADS": "1"})
    assert settings == EncoderSettings(EncoderBackend.ONNX, Precision.INT8, 256, 1)
    default = EncoderSettings.from_env({})
    assert (default.backend, default.precision, default.passage_tokens) == (
        EncoderBackend.AUTO, Precision.AUTO, 192)
    with pytest.raises(ValueError, match="passage tokens"):
        EncoderSettings(passage_tokens=4)


@pytest.mark.parametrize(("backend", "precision", "amx", "onnx", "expected"), [
    ("auto", "auto", False, True, ("onnx", "int8")),  # this machine: AMD EPYC, no AMX
    ("auto", "auto", True, True, ("torch", "bf16")),  # Intel with AMX
    ("auto", "auto", False, False, ("torch", "fp32")),  # a folder built before the export
    ("auto", "fp32", False, True, ("onnx", "fp32")),
    ("auto", "bf16", False, True, ("torch", "bf16")),
    ("auto", "int8", True, False, ("onnx", "int8")),
    ("torch", "auto", False, True, ("torch", "fp32")),
    ("onnx", "auto", True, True, ("onnx", "int8")),
])
def test_auto_resolves_per_machine(backend, precision, amx, onnx, expected):
    resolved = EncoderSettings(backend, precision).resolve(amx=amx, onnx_available=onnx)
    assert tuple(x.value for x in resolved) == expected


def test_amx_detection(tmp_path):
    amx, plain = tmp_path / "amx", tmp_path / "plain"
    amx.write_text("flags\t\t: fpu avx2 avx512f amx_bf16 amx_tile amx_int8\n")
    plain.write_text("flags\t\t: fpu avx2 avx512f avx512_bf16\n")
    assert cpu_has_fast_bf16(amx) and not cpu_has_fast_bf16(plain)
    assert not cpu_has_fast_bf16(tmp_path / "missing")


def test_nothing_heavy_loads_at_import_or_construction(model_dir):
    code = (
        "import sys\n"
        "from knowledge.retrieval.dense import Embedder\n"
        "import knowledge.embedding.onnx_export, knowledge.embedding.onnx_backend\n"
        "import knowledge.embedding.torch_backend, knowledge.embedding.folder\n"
        f"e = Embedder({str(model_dir)!r})\n"
        "heavy = {'torch', 'onnxruntime', 'transformers', 'tokenizers', 'onnx'}\n"
        "print(sorted(heavy & set(sys.modules)), e.backend, e.precision)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120).stdout.split()
    assert out[0] == "[]", out


# -- backends agree -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def backends(model_dir):
    from knowledge.embedding.onnx_export import onnx_available

    if not onnx_available(model_dir):
        pytest.fail(f"no ONNX export in {model_dir}: run 'make setup' (or 'kb build-model "
                    f"--out {model_dir} --onnx-only')")
    return {f"{b}-{p}": Embedder(str(model_dir), backend=b, precision=p, max_seq_length=64)
            for b, p in (("torch", "fp32"), ("onnx", "fp32"), ("onnx", "int8"))}


@pytest.fixture(scope="module")
def reference(backends):
    torch32 = backends["torch-fp32"]
    return {"query": torch32.embed_queries(QUESTIONS + SENTENCES),
            "passage": torch32.embed_passages(SENTENCES + [PASSAGE * 6])}


def _cosines(embedder, reference):
    queries = embedder.embed_queries(QUESTIONS + SENTENCES)
    passages = embedder.embed_passages(SENTENCES + [PASSAGE * 6])
    for vectors in (queries, passages):
        assert vectors.dtype == np.float32 and vectors.shape[1] == 384
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    return np.concatenate([np.sum(queries * reference["query"], axis=1),
                           np.sum(passages * reference["passage"], axis=1)])


def test_torch_backend_reproduces_sentence_transformers(model_dir, backends, reference):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_dir))
    model.max_seq_length = 64
    expected = model.encode(SENTENCES + [PASSAGE * 6], prompt="passage: ",
                            normalize_embeddings=True)
    assert np.min(np.sum(expected * reference["passage"], axis=1)) > 0.99999


def test_onnx_fp32_reproduces_torch_fp32(backends, reference):
    assert _cosines(backends["onnx-fp32"], reference).min() >= 0.999


def test_onnx_int8_stays_close_to_torch_fp32(backends, reference):
    cosines = _cosines(backends["onnx-int8"], reference)
    assert cosines.min() >= INT8_MIN_COSINE, cosines
    assert cosines.min() < 0.9999  # it is the quantised graph, not the fp32 one


def test_bf16_vectors_agree_with_fp32(model_dir, reference):
    bf16 = Embedder(str(model_dir), backend="torch", precision="bf16", max_seq_length=64)
    vectors = bf16.embed_passages(SENTENCES + [PASSAGE * 6])
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert float(np.min(np.sum(vectors * reference["passage"], axis=1))) >= 0.995


def test_onnx_threads_switch_without_changing_vectors(backends):
    embedder = backends["onnx-fp32"]
    embedder.set_threads(1)
    one = embedder.embed_queries(QUESTIONS)
    embedder.set_threads(2)
    two = embedder.embed_queries(QUESTIONS)
    assert np.allclose(one, two, atol=1e-5)
    assert embedder.threads >= 1


def test_passages_are_cut_at_the_token_limit(backends, model_dir):
    cut = backends["onnx-fp32"]
    assert cut.max_seq_length == 64
    full = Embedder(str(model_dir), backend="onnx", precision="fp32", max_seq_length=None)
    long_text = " ".join(SENTENCES * 40)  # ≈ 1,000 tokens
    longer = long_text[:400] + " Thêm một đoạn hoàn toàn khác ở phía sau. " * 80
    # the cut embedder sees only a passage's head: two passages sharing a head look the same
    a, b = cut.embed_passages([long_text, longer])
    assert float(a @ b) > 0.9999
    a, b = full.embed_passages([long_text, longer])
    assert float(a @ b) < 0.99


def test_empty_input_gives_an_empty_matrix(backends):
    assert backends["onnx-int8"].embed_queries([]).shape == (0, 384)
    vectors, spans = backends["onnx-int8"].embed_passages_with_spans([], [])
    assert vectors.shape == (0, 384) and spans == []


# -- sentence vectors from the passage's forward pass -------------------------------------------
def _spans(text: str) -> list[tuple[int, int]]:
    """Sentences ending with a full stop, without the blanks between them."""
    return [(m.start(), m.end()) for m in re.finditer(r"\S[^.]*\.(?=\s|$)", text)]


@pytest.mark.parametrize("name", ["onnx-fp32", "onnx-int8"])
def test_span_vectors_shapes_and_passage_vectors(backends, name):
    embedder = backends[name]
    texts = [PASSAGE, SENTENCES[1]]
    spans = [_spans(PASSAGE), [(0, 6), (7, len(SENTENCES[1]))]]
    assert [PASSAGE[a:b] for a, b in spans[0]][1] == "Đối tượng kiểm tra là các sở, ban, ngành."
    passages, pooled = embedder.embed_passages_with_spans(texts, spans)
    assert np.allclose(passages, embedder.embed_passages(texts), atol=1e-6)
    assert [p.shape for p in pooled] == [(3, 384), (2, 384)]
    for rows in pooled:
        assert rows.dtype == np.float32
        assert np.allclose(np.linalg.norm(rows, axis=1), 1.0, atol=1e-5)
    # close to each sentence embedded on its own, and a question finds its sentence by them
    alone = embedder.embed_passages([PASSAGE[a:b] for a, b in spans[0]])
    assert float(np.sum(pooled[0] * alone, axis=1).min()) > 0.85
    questions = embedder.embed_queries(["Quảng Trị ban hành kế hoạch số mấy?",
                                        "Đối tượng kiểm tra gồm những ai?", "Khi nào kiểm tra?"])
    assert list((questions @ pooled[0].T).argmax(axis=1)) == [0, 1, 2]


@pytest.mark.parametrize("name", ["onnx-fp32", "onnx-int8", "torch-fp32"])
def test_a_span_over_the_whole_passage_is_the_passage_vector(backends, name):
    embedder = backends[name]
    texts = [PASSAGE, PASSAGE * 6]  # the second is cut at 64 tokens
    passages, pooled = embedder.embed_passages_with_spans(texts, [[(0, len(t))] for t in texts])
    for vector, rows in zip(passages, pooled, strict=True):
        assert float(rows[0] @ vector) > 0.99999


def test_spans_beyond_the_token_limit(backends):
    embedder = backends["onnx-fp32"]  # 64 tokens
    text = PASSAGE + " " + " ".join(SENTENCES)  # > 64 tokens: the last sentences are beyond
    last = (text.rindex(SENTENCES[-1]), len(text))
    spans = [[(0, 10), last]]
    passages, window = embedder.embed_passages_with_spans([text], spans, tail="window")
    _, fallback = embedder.embed_passages_with_spans([text], spans, tail="passage")
    assert np.allclose(fallback[0][1], passages[0])  # beyond the window: the passage vector
    assert np.allclose(fallback[0][0], window[0][0], atol=1e-6)  # inside: the same
    alone = embedder.embed_passages([SENTENCES[-1]])[0]
    # the tail window sees the sentence itself: far closer to it than the passage vector is
    assert float(window[0][1] @ alone) > 0.9
    assert float(window[0][1] @ alone) > float(passages[0] @ alone) + 0.05


def test_blank_and_invalid_spans(backends):
    embedder = backends["onnx-fp32"]
    text = "Một câu.   Hai câu."
    passages, pooled = embedder.embed_passages_with_spans([text], [[(8, 11)]])
    assert np.allclose(pooled[0][0], passages[0])  # only blanks: the passage vector
    with pytest.raises(ValueError, match="outside"):
        embedder.embed_passages_with_spans([text], [[(5, 100)]])
    with pytest.raises(ValueError, match="outside"):
        embedder.embed_passages_with_spans([text], [[(4, 4)]])
    with pytest.raises(ValueError, match="1 texts but 2 span lists"):
        embedder.embed_passages_with_spans([text], [[], []])
    with pytest.raises(ValueError, match="tail must be one of window, passage"):
        embedder.embed_passages_with_spans([text], [[(0, 3)]], tail="drop")
