"""Approximate (HNSW) dense search, with exact search as the oracle."""

import numpy as np
import pytest

from knowledge.retrieval.ann import HNSWIndex, build_dense_index
from knowledge.retrieval.dense import DenseIndex

N, DIM, QUERIES, K = 5_000, 64, 100, 10


def _normalized(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return _normalized(np.random.default_rng(7).standard_normal((N, DIM)))


@pytest.fixture(scope="module")
def queries() -> np.ndarray:
    return _normalized(np.random.default_rng(8).standard_normal((QUERIES, DIM)))


@pytest.fixture(scope="module")
def exact(vectors) -> DenseIndex:
    return DenseIndex(vectors)


@pytest.fixture(scope="module")
def hnsw(vectors) -> HNSWIndex:
    return HNSWIndex(vectors, m=32, ef_construction=80, ef_search=64)


def _recall(approx, exact, queries, allowed=None) -> float:
    found = wanted = 0
    for q in queries:
        truth = {row for row, _ in exact.search_vector(q, K, allowed)}
        found += len(truth & {row for row, _ in approx.search_vector(q, K, allowed)})
        wanted += len(truth)
    return found / wanted


def test_recall_at_10_against_exact_search(hnsw, exact, queries):
    assert len(hnsw) == N
    assert _recall(hnsw, exact, queries) >= 0.95


def test_scores_are_inner_products_best_first(hnsw, vectors, queries):
    hits = hnsw.search_vector(queries[0], K)
    assert len(hits) == K
    scores = [s for _, s in hits]
    assert scores == sorted(scores, reverse=True)
    for row, score in hits:
        assert score == pytest.approx(float(vectors[row] @ queries[0]), abs=1e-5)


@pytest.mark.parametrize("share", [0.002, 0.3, 0.8])
def test_allowed_mask_filters_rows(vectors, exact, queries, share):
    # a small filter_exact_limit so the 30 % and 80 % cases walk the graph with a selector
    index = HNSWIndex(vectors, m=32, ef_construction=80, ef_search=64, filter_exact_limit=100)
    allowed = np.random.default_rng(9).random(N) < share
    for q in queries[:20]:
        hits = index.search_vector(q, K, allowed)
        assert hits and all(allowed[row] for row, _ in hits)
        assert len(hits) == min(K, int(allowed.sum()))
    assert _recall(index, exact, queries[:20], allowed) >= 0.95


def test_nothing_allowed_and_empty_index():
    index = HNSWIndex(dimension=DIM)
    assert len(index) == 0 and index.search_vector(np.ones(DIM, dtype=np.float32), 5) == []
    full = HNSWIndex(_normalized(np.ones((3, DIM))))
    assert full.search_vector(np.ones(DIM, dtype=np.float32), 5, np.zeros(3, bool)) == []


def test_save_load_round_trip_gives_identical_results(hnsw, queries, tmp_path):
    hnsw.save(tmp_path / "ann")
    loaded = HNSWIndex.load(tmp_path / "ann")
    assert len(loaded) == len(hnsw) and loaded.ef_search == hnsw.ef_search
    for q in queries[:20]:
        assert loaded.search_vector(q, K) == hnsw.search_vector(q, K)


def test_load_refuses_a_torn_index(hnsw, tmp_path):
    hnsw.save(tmp_path / "ann")
    meta = tmp_path / "ann" / "ann.json"
    meta.write_text(meta.read_text().replace(f'"count": {N}', '"count": 12'))
    with pytest.raises(ValueError, match="manifest"):
        HNSWIndex.load(tmp_path / "ann")


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="bad HNSW parameters"):
        HNSWIndex(dimension=8, m=1)
    with pytest.raises(ValueError, match="dimension"):
        HNSWIndex()


def test_factory_is_exact_below_the_threshold(vectors):
    assert isinstance(build_dense_index(vectors[:100], exact_threshold=1_000), DenseIndex)
    assert isinstance(build_dense_index(vectors[:100], exact_threshold=50), HNSWIndex)
