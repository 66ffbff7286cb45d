"""Score-normalised fusion (convex combination) and the FusionMode choices."""

import pytest

from knowledge.retrieval.fusion import (
    FusionMode,
    convex_combination,
    fuse,
    normalize_scores,
    reciprocal_rank_fusion,
)

SPARSE = [(1, 12.0), (2, 11.5), (3, 2.0)]  # BM25: 1 and 2 close, 3 far behind
DENSE = [(3, 0.91), (2, 0.90), (4, 0.70)]  # dense: 3 and 2 close, 4 far behind


def test_minmax_maps_best_to_one_and_worst_to_zero():
    assert normalize_scores([(7, 10.0), (3, 6.0), (5, 2.0)], FusionMode.MINMAX) == {
        7: 1.0, 3: 0.5, 5: 0.0}
    assert normalize_scores([(7, 4.0), (3, 4.0)], FusionMode.MINMAX) == {7: 1.0, 3: 1.0}
    assert normalize_scores([], FusionMode.MINMAX) == {}


def test_zscore_centres_and_scales():
    norm = normalize_scores([(1, 3.0), (2, 1.0)], FusionMode.ZSCORE)
    assert norm == {1: pytest.approx(1.0), 2: pytest.approx(-1.0)}
    assert normalize_scores([(1, 5.0)], FusionMode.ZSCORE) == {1: 0.0}


def test_rrf_is_not_a_normalisation():
    with pytest.raises(ValueError, match="not a score normalisation"):
        normalize_scores(SPARSE, FusionMode.RRF)


@pytest.mark.parametrize("method", [FusionMode.MINMAX, FusionMode.ZSCORE])
def test_convex_combination_rewards_agreement_by_score(method):
    fused = convex_combination([SPARSE, DENSE], [0.5, 0.5], method=method)
    assert [row for row, _ in fused][:1] == [2]  # near the top of both lists
    assert {row for row, _ in fused} == {1, 2, 3, 4}
    assert [s for _, s in fused] == sorted((s for _, s in fused), reverse=True)


def test_minmax_scores_are_the_weighted_sum():
    fused = dict(convex_combination([SPARSE, DENSE], [0.3, 0.7]))
    # row 2: sparse (11.5-2)/(12-2)=0.95, dense (0.90-0.70)/(0.91-0.70)
    assert fused[2] == pytest.approx(0.3 * 0.95 + 0.7 * (0.20 / 0.21))
    # row 4 is missing from the sparse list: it gets that list's floor (0)
    assert fused[4] == pytest.approx(0.0)
    # row 1 is missing from the dense list
    assert fused[1] == pytest.approx(0.3 * 1.0)


def test_weights_at_the_extremes_reproduce_one_retriever():
    only_dense = dict(convex_combination([SPARSE, DENSE], [0.0, 1.0]))
    assert sorted(only_dense, key=lambda r: -only_dense[r])[:2] == [3, 2]
    assert only_dense[1] == only_dense[4] == 0.0  # row 4 is dense's last, row 1 is not in it
    only_sparse = convex_combination([SPARSE, DENSE], [1.0, 0.0])
    assert [row for row, _ in only_sparse][:3] == [1, 2, 3]


def test_ties_break_by_row():
    fused = convex_combination([[(9, 1.0), (4, 1.0)]], [1.0])
    assert fused == [(4, 1.0), (9, 1.0)]


def test_one_weight_per_ranking():
    with pytest.raises(ValueError, match="one weight per ranking"):
        convex_combination([SPARSE, DENSE], [1.0])


@pytest.mark.parametrize("mode", list(FusionMode))
def test_fuse_dispatches_every_mode(mode):
    fused = fuse([SPARSE, DENSE], mode, [0.5, 0.5], rrf_k=10)
    assert {row for row, _ in fused} == {1, 2, 3, 4}
    if mode is FusionMode.RRF:
        assert fused == reciprocal_rank_fusion([SPARSE, DENSE], [0.5, 0.5], k=10)
    else:
        assert fused == convex_combination([SPARSE, DENSE], [0.5, 0.5], method=mode)


def test_fusion_mode_from_str_lists_choices():
    assert FusionMode.from_str("MinMax") is FusionMode.MINMAX
    with pytest.raises(ValueError, match="rrf, minmax, zscore"):
        FusionMode.from_str("borda")


def test_empty_rankings_fuse_to_nothing():
    assert convex_combination([[], []], [0.5, 0.5]) == []
    assert fuse([[], [(3, 0.5)]], FusionMode.MINMAX, [0.5, 0.5]) == [(3, 0.5)]
