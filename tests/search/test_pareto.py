"""Pareto masks and hypervolumes: kernels vs tests/naive.py, BoTorch, closed forms, properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lens_fast.errors import LensError, ParetoError
from lens_fast.kernels import pareto as kernels
from lens_fast.search.pareto import (
    dominated_by,
    hypervolume,
    hypervolume_trace,
    pareto_front,
    pareto_mask,
    threshold_counts,
)
from tests import naive


def tie_heavy(rng, n, k, levels=5):
    """Integer coordinates in 0..levels-1: many ties and duplicates."""
    return rng.integers(0, levels, size=(n, k)).astype(np.float64)


# --------------------------------------------------------------------- masks
@pytest.mark.parametrize("k", [1, 2, 3, 4])
def test_mask_equals_naive_on_random_and_tied_sets(rng, k):
    for trial in range(40):
        n = int(rng.integers(0, 40))
        pts = tie_heavy(rng, n, k) if trial % 2 else rng.normal(size=(n, k))
        assert pareto_mask(pts).tolist() == naive.nondominated_mask(pts)


def test_mask_duplicates_are_mutually_nondominated_and_inf_behaves():
    pts = np.array(
        [[1.0, 2.0], [1.0, 2.0], [2.0, 2.0], [np.inf, 0.0], [np.inf, 0.0], [0.5, np.inf]]
    )
    assert pareto_mask(pts).tolist() == [True, True, False, True, True, True]
    assert pareto_mask(pts).tolist() == naive.nondominated_mask(pts)


def test_front_is_sorted_and_dominated_by_matches_naive(rng):
    pts = tie_heavy(rng, 60, 3)
    front = pareto_front(pts)
    assert np.array_equal(front, pts[pareto_mask(pts)][np.lexsort(front.T[::-1])])
    assert np.all(np.diff(front[:, 0]) >= 0)
    probe = tie_heavy(rng, 50, 3)
    want = [
        any(naive.nondominated_mask([f, p]) == [True, False] for f in front.tolist())
        for p in probe.tolist()
    ]
    assert dominated_by(probe, front).tolist() == want


def test_lex_order_is_a_stable_lexicographic_sort(rng):
    pts = tie_heavy(rng, 300, 3, levels=3)
    assert np.array_equal(kernels.lex_order(pts), np.lexsort(pts.T[::-1]))


# --------------------------------------------------------------- hypervolume
@pytest.mark.parametrize("k", [2, 3])
def test_hypervolume_equals_naive_with_ties_and_points_beyond_the_reference(rng, k):
    ref = np.full(k, 4.0)
    for trial in range(30):
        n = int(rng.integers(0, 14 if k == 3 else 30))
        # coordinates 0..5 against a reference at 4: ties, duplicates, points on and
        # beyond the reference (those contribute nothing)
        pts = tie_heavy(rng, n, k, levels=6) if trial % 2 else rng.uniform(0, 5, size=(n, k))
        assert hypervolume(pts, ref) == pytest.approx(naive.hypervolume(pts, ref), rel=1e-12)


def test_hypervolume_closed_forms():
    # one point: the box to the reference
    assert hypervolume([[1.0, 2.0]], [4.0, 7.0]) == pytest.approx(15.0, rel=1e-15)
    assert hypervolume([[1.0, 2.0, 0.5]], [4.0, 7.0, 2.0]) == pytest.approx(22.5, rel=1e-15)
    # two points in 2-D: boxes 3x1 and 1x3 overlapping in 1x1 -> 5
    assert hypervolume([[1.0, 3.0], [3.0, 1.0]], [4.0, 4.0]) == pytest.approx(5.0, rel=1e-15)
    # disjoint boxes cannot happen with a shared reference; nested: the dominator's box
    assert hypervolume([[1.0, 1.0], [2.0, 2.0]], [4.0, 4.0]) == pytest.approx(9.0, rel=1e-15)
    # 3-D: boxes 2x2x1 and 1x1x2 overlapping in 1x1x1 -> 5
    three = [[1.0, 1.0, 2.0], [2.0, 2.0, 1.0]]
    assert hypervolume(three, [3.0, 3.0, 3.0]) == pytest.approx(5.0, rel=1e-15)
    # points on or beyond the reference contribute nothing
    assert hypervolume([[4.0, 1.0], [5.0, 0.0], [1.0, np.inf]], [4.0, 4.0]) == 0.0
    assert hypervolume(np.empty((0, 3)), [1.0, 1.0, 1.0]) == 0.0


@pytest.mark.parametrize("k,n", [(2, 300), (3, 120)])
def test_hypervolume_equals_botorch(rng, k, n):
    import torch
    from botorch.utils.multi_objective.hypervolume import Hypervolume

    ref = np.full(k, 1.0)
    for shape in ("cloud", "front"):
        pts = rng.uniform(0, 1.1, size=(n, k))
        if shape == "front":  # every point non-dominated: a concave front
            pts = pts / np.linalg.norm(pts, axis=1, keepdims=True)
        front = pts[pareto_mask(pts) & (pts < ref).all(axis=1)]
        # BoTorch maximises: negate points and reference
        want = Hypervolume(torch.tensor(-ref)).compute(torch.tensor(-front))
        assert hypervolume(pts, ref) == pytest.approx(want, rel=1e-10)


@pytest.mark.parametrize("k", [2, 3])
def test_trace_is_the_hypervolume_of_every_prefix(rng, k):
    ref = np.full(k, 4.0)
    for trial in range(6):
        pts = tie_heavy(rng, 40, k, levels=6) if trial % 2 else rng.uniform(0, 4.5, (200, k))
        trace = hypervolume_trace(pts, ref)
        want = [hypervolume(pts[: i + 1], ref) for i in range(len(pts))]
        np.testing.assert_allclose(trace, want, rtol=1e-12, atol=0)
        assert np.all(np.diff(trace) >= 0)
    assert hypervolume_trace(np.empty((0, k)), ref).shape == (0,)


def test_trace_on_a_front_of_many_points_matches_the_total(rng):
    pts = rng.uniform(0.01, 1, (2000, 3))
    pts /= pts.sum(axis=1, keepdims=True)  # all on the simplex: all non-dominated
    trace = hypervolume_trace(pts, [1.0, 1.0, 1.0])
    assert trace[-1] == pytest.approx(hypervolume(pts, [1.0, 1.0, 1.0]), rel=1e-11)
    assert np.all(np.diff(trace) > 0)  # every point adds volume


# --------------------------------------------------------------- properties
coords = st.integers(0, 6).map(float)


def point_sets(k):
    return st.lists(st.tuples(*([coords] * k)), min_size=0, max_size=25).map(
        lambda rows: np.array(rows, dtype=np.float64).reshape(len(rows), k)
    )


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 3).flatmap(point_sets))
def test_mask_is_idempotent(pts):
    front = pts[pareto_mask(pts)]
    assert pareto_mask(front).all()


@settings(max_examples=60, deadline=None)
@given(st.integers(2, 3).flatmap(lambda k: st.tuples(point_sets(k), st.tuples(*[coords] * k))))
def test_hypervolume_grows_weakly_and_ignores_dominated_points(data):
    pts, extra = data
    ref = np.full(pts.shape[1], 5.0)
    before = hypervolume(pts, ref)
    after = hypervolume(np.vstack([pts, [extra]]), ref)
    assert after >= before - 1e-12
    assert hypervolume(pts[pareto_mask(pts)], ref) == pytest.approx(before, rel=1e-12, abs=0)


# --------------------------------------------------------------- thresholds
def test_threshold_counts_are_strict_and_per_row():
    pts = np.array([[0.1, 5.0, 50.0], [0.2, 3.0, 40.0], [0.3, 1.0, 10.0], [0.2, 3.0, 60.0]])
    thr = np.array(
        [
            [0.25, np.inf, np.inf],  # error < 0.25: rows 0, 1, 3
            [0.2, np.inf, np.inf],  # strict: row 0 only
            [0.25, 4.0, np.inf],  # and energy < 4: rows 1, 3
            [0.25, 4.0, 50.0],  # and latency < 50: row 1
            [1.0, 0.5, 1.0],  # none
        ]
    )
    assert threshold_counts(pts, thr).tolist() == [3, 1, 2, 1, 0]


# --------------------------------------------------------------- validation
@pytest.mark.parametrize(
    "call,message",
    [
        (lambda: pareto_mask([1.0, 2.0]), "points must be an n x k array, got shape (2,)"),
        (lambda: pareto_mask([[1.0, np.nan]]), "got NaN at row 0, column 1"),
        (lambda: pareto_mask([["a", "b"]]), "points must be numbers"),
        (lambda: hypervolume(np.ones((2, 4)), np.ones(4)), "needs 2 or 3 objectives"),
        (lambda: hypervolume(np.ones((2, 2)), [2.0]), "must have 2 coordinates"),
        (lambda: hypervolume(np.ones((2, 2)), [2.0, np.inf]), "must be finite"),
        (lambda: hypervolume([[-np.inf, 1.0]], [2.0, 2.0]), "got -inf at row 0, column 0"),
        (lambda: hypervolume_trace([[np.nan, 1.0]], [2.0, 2.0]), "got NaN"),
        (lambda: threshold_counts(np.ones((2, 3)), np.ones((1, 2))), "thresholds must be an n x 3"),
        (lambda: dominated_by(np.ones((2, 3)), np.ones((1, 2))), "front must be an n x 3"),
    ],
)
def test_wrappers_raise_one_line_pareto_errors(call, message):
    with pytest.raises(ParetoError) as info:
        call()
    assert message in str(info.value) and "\n" not in str(info.value)
    assert isinstance(info.value, LensError)
