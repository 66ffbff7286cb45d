"""The ONNX export of ``kb build-model`` on a tiny random XLM-R (seconds, not the 470 MB model):
the graph reproduces torch for any batch size, length and padding, the int8 variant stays
close, the export is deterministic, and files appear whole or not at all."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from knowledge.embedding.onnx_export import export_fp32, onnx_available, onnx_paths, quantize_int8


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    import torch
    from transformers import XLMRobertaConfig, XLMRobertaModel

    torch.manual_seed(0)
    config = XLMRobertaConfig(vocab_size=300, hidden_size=32, num_hidden_layers=2,
                              num_attention_heads=4, intermediate_size=64,
                              max_position_embeddings=80, pad_token_id=1, bos_token_id=0,
                              eos_token_id=2, type_vocab_size=1)
    folder = tmp_path_factory.mktemp("tiny-xlmr")
    XLMRobertaModel(config).eval().save_pretrained(folder)
    return folder


def _batch(rng, lengths, width):
    ids = np.full((len(lengths), width), 1, dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, n in enumerate(lengths):
        ids[row, :n] = [0, *rng.integers(3, 300, n - 2), 2]
        mask[row, :n] = 1
    return ids, mask


def _torch_states(folder, ids, mask):
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(folder)).eval()
    with torch.no_grad():
        return model(input_ids=torch.from_numpy(ids),
                     attention_mask=torch.from_numpy(mask)).last_hidden_state.numpy()


def test_export_reproduces_torch_and_int8_stays_close(tiny_model):
    import onnxruntime as ort

    paths = onnx_paths(tiny_model)
    assert not onnx_available(tiny_model)
    export_fp32(tiny_model, paths["fp32"])
    quantize_int8(paths["fp32"], paths["int8"])
    assert onnx_available(tiny_model)
    assert not list(paths["fp32"].parent.glob("*.tmp")), "no temporary file left behind"
    rng = np.random.default_rng(0)
    fp32 = ort.InferenceSession(str(paths["fp32"]), providers=["CPUExecutionProvider"])
    int8 = ort.InferenceSession(str(paths["int8"]), providers=["CPUExecutionProvider"])
    # shapes unlike the export's example: one row, many rows, padding on some
    for lengths in ([3], [70], [5, 40, 12], [9, 9]):
        ids, mask = _batch(rng, lengths, max(lengths))
        expected = _torch_states(tiny_model, ids, mask)
        feeds = {"input_ids": ids, "attention_mask": mask}
        got = fp32.run(None, feeds)[0]
        quantised = int8.run(None, feeds)[0]
        real = mask.astype(bool)
        assert got.shape == expected.shape
        assert np.abs(got[real] - expected[real]).max() < 1e-4
        cos = np.sum(quantised[real] * expected[real], axis=1) / (
            np.linalg.norm(quantised[real], axis=1) * np.linalg.norm(expected[real], axis=1))
        assert cos.min() > 0.95
    import onnx

    graph = onnx.load(str(paths["int8"])).graph
    assert sum(n.op_type == "MatMulInteger" for n in graph.node) == 12  # 6 per layer
    assert any(t.data_type == onnx.TensorProto.INT8 for t in graph.initializer)


def test_export_is_deterministic(tiny_model, tmp_path):
    first, second = tmp_path / "a.onnx", tmp_path / "b.onnx"
    export_fp32(tiny_model, first)
    export_fp32(tiny_model, second)
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (first, second)]
    assert digest[0] == digest[1]


def test_an_interrupted_write_leaves_no_file(tmp_path):
    from knowledge.embedding.onnx_export import _replace_atomically

    target = tmp_path / "model.onnx"
    target.write_bytes(b"old graph")

    def fails_half_way(path):
        path.write_bytes(b"half a graph")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _replace_atomically(fails_half_way, target)
    assert target.read_bytes() == b"old graph"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"]
