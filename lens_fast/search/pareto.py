"""Pareto sets, hypervolumes and the paper's comparisons of two result sets.

Everything minimises. A point dominates another when it is <= in every objective and
< in at least one, so duplicates are mutually non-dominated. These wrappers validate
and coerce (float64, C-contiguous, no NaN) and call the numba kernels of
`lens_fast.kernels.pareto`; errors are `ParetoError` with one-line messages.

The comparison of two runs A and B follows LENS (DAC 2021), on 2-D fronts
(error, metric) with metric = latency or energy:

* ``a_dominates_b_pct``: % of B's front dominated by at least one member of A's front;
* ``b_dominates_a_pct``: the converse;
* ``a_share_of_combined_pct``: % of the front of (A's front + B's front) contributed
  by A (a point present in both counts once for each side);
* ``hv_a``, ``hv_b``: the 2-D hypervolumes of the two fronts w.r.t. one reference.

A run whose search optimised all-edge objectives (the "Traditional" baseline) gets
its front the paper's way (`paper_front`): the front on (error, all-edge metric),
those members re-scored with the partitioned metric, then the front of that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lens_fast.errors import ParetoError
from lens_fast.kernels import pareto as _k


# ------------------------------------------------------------------ validation
def _as_points(points: object, name: str = "points", k: int | None = None) -> np.ndarray:
    """An `n x k` float64 C-contiguous array without NaN, or a `ParetoError`."""
    try:
        arr = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParetoError(f"{name} must be numbers, got {type(points).__name__}: {exc}") from exc
    if arr.ndim != 2 or arr.shape[1] < 1:
        want = f"n x {k}" if k is not None else "n x k"
        raise ParetoError(f"{name} must be an {want} array, got shape {arr.shape}")
    if k is not None and arr.shape[1] != k:
        raise ParetoError(f"{name} must be an n x {k} array, got shape {arr.shape}")
    bad = np.isnan(arr)
    if bad.any():
        row, col = (int(v) for v in np.argwhere(bad)[0])
        raise ParetoError(f"{name} must not contain NaN, got NaN at row {row}, column {col}")
    return np.ascontiguousarray(arr)


def _as_ref(ref: object, k: int, name: str = "reference point") -> np.ndarray:
    try:
        arr = np.asarray(ref, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ParetoError(f"{name} must be {k} numbers, got {ref!r}") from exc
    if arr.shape != (k,):
        raise ParetoError(f"{name} must have {k} coordinates (one per objective), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ParetoError(f"{name} must be finite, got {arr.tolist()}")
    return np.ascontiguousarray(arr)


def _hv_points(points: object) -> np.ndarray:
    arr = _as_points(points)
    if arr.shape[1] not in (2, 3):
        raise ParetoError(f"hypervolume needs 2 or 3 objectives, got points of shape {arr.shape}")
    if np.isneginf(arr).any():
        row, col = (int(v) for v in np.argwhere(np.isneginf(arr))[0])
        raise ParetoError(f"points must be finite or +inf, got -inf at row {row}, column {col}")
    return arr


# ------------------------------------------------------------------ Pareto sets
def pareto_mask(points: object) -> np.ndarray:
    """Non-dominated rows of `points` (`n x k`, minimised) -> `n` bool."""
    return _k.nondominated_mask(_as_points(points))


def pareto_front(points: object) -> np.ndarray:
    """The non-dominated rows of `points` (`n x k`), sorted lexicographically -> `m x k`."""
    arr = _as_points(points)
    front = arr[_k.nondominated_mask(arr)]
    return front[_k.lex_order(np.ascontiguousarray(front))]


def dominated_by(points: object, front: object) -> np.ndarray:
    """Rows of `points` (`m x k`) dominated by some row of `front` (`n x k`) -> `m` bool."""
    pts = _as_points(points)
    other = _as_points(front, "front", pts.shape[1])
    return _k.dominated_by(pts, other)


def paper_front(points: object, partitioned: object) -> np.ndarray:
    """Front of a run searched on all-edge objectives, scored as deployed (the paper's way).

    `points`: `n x 2` (error, all-edge metric); `partitioned`: `n` (the same
    candidates' metric at their best split). Returns the front of the members of the
    all-edge front re-scored as (error, partitioned metric): `m x 2`, error ascending.
    """
    pts = _as_points(points, "points", 2)
    part = _as_points(np.asarray(partitioned, dtype=object).reshape(-1, 1), "partitioned", 1)[:, 0]
    if part.shape[0] != pts.shape[0]:
        raise ParetoError(
            f"partitioned must have one value per point, got {part.shape[0]}, expected {pts.shape[0]}"
        )
    members = _k.nondominated_mask(pts)
    rescored = np.column_stack([pts[members, 0], part[members]])
    return pareto_front(rescored)


# ------------------------------------------------------------------ hypervolume
def hypervolume(points: object, ref: object) -> float:
    """Exact hypervolume of `points` (`n x 2` or `n x 3`, minimised) w.r.t. `ref` (k).

    Points not strictly better than `ref` in every objective contribute nothing.
    """
    arr = _hv_points(points)
    r = _as_ref(ref, arr.shape[1])
    if arr.shape[1] == 2:
        return float(_k.hypervolume_2d(arr, r))
    return float(_k.hypervolume_3d(arr, r))


def hypervolume_trace(points: object, ref: object) -> np.ndarray:
    """Hypervolume of the first i rows of `points` (`n x 2|3`), i = 1..n -> `n` float64.

    Non-decreasing: the "hypervolume per evaluation" of a run in trial order.
    """
    arr = _hv_points(points)
    r = _as_ref(ref, arr.shape[1])
    if arr.shape[1] == 2:
        return _k.hypervolume_trace_2d(arr, r)
    return _k.hypervolume_trace_3d(arr, r)


def default_reference(*point_sets: object, margin: float = 0.1) -> np.ndarray:
    """(1 + margin) x the component-wise maximum over the union of `point_sets` (`n_i x k`).

    A maximum that is <= 0 is moved up by `margin` x its magnitude, or by `margin`
    when it is 0, so that every point stays strictly inside.
    """
    sets = [_as_points(p, "points") for p in point_sets]
    if not sets or sum(s.shape[0] for s in sets) == 0:
        raise ParetoError("a reference point needs at least 1 point, got 0")
    k = sets[0].shape[1]
    for s in sets:
        if s.shape[1] != k:
            raise ParetoError(f"point sets must share their objectives, got {s.shape[1]} and {k}")
    top = np.max(np.concatenate(sets), axis=0)
    if not np.isfinite(top).all():
        raise ParetoError(f"a reference point needs finite points, got maxima {top.tolist()}")
    step = np.where(top == 0.0, margin, margin * np.abs(top))
    return top + step


# ------------------------------------------------------------------ comparisons
@dataclass(frozen=True)
class FrontComparison:
    """The paper's comparison of two 2-D fronts (error, metric); percentages in [0, 100]."""

    a_dominates_b_pct: float
    b_dominates_a_pct: float
    a_share_of_combined_pct: float
    hv_a: float
    hv_b: float
    reference: np.ndarray  # 2: (error, metric)
    front_a: np.ndarray  # m_a x 2, error ascending
    front_b: np.ndarray  # m_b x 2, error ascending

    def to_dict(self) -> dict:
        return {
            "a_dominates_b_pct": self.a_dominates_b_pct,
            "b_dominates_a_pct": self.b_dominates_a_pct,
            "a_share_of_combined_pct": self.a_share_of_combined_pct,
            "hv_a": self.hv_a,
            "hv_b": self.hv_b,
            "reference": self.reference.tolist(),
            "front_a": self.front_a.tolist(),
            "front_b": self.front_b.tolist(),
        }


def run_front(
    points: object, partitioned: object | None = None, name: str = "points"
) -> np.ndarray:
    """Front of one result set: `pareto_front(points)`, or `paper_front` with `partitioned`."""
    pts = _as_points(points, name, 2)
    if pts.shape[0] == 0:
        raise ParetoError(f"{name} must hold at least 1 point, got 0")
    if partitioned is None:
        return pareto_front(pts)
    return paper_front(pts, partitioned)


def compare_fronts(
    a: object,
    b: object,
    *,
    a_partitioned: object | None = None,
    b_partitioned: object | None = None,
    ref: object | None = None,
) -> FrontComparison:
    """Compare result sets A and B on (error, metric).

    `a`: `n_a x 2`, `b`: `n_b x 2` (error, metric; with `*_partitioned` given, the
    metric is the all-edge one and `*_partitioned` (`n`) the deployed one, and the
    front is `paper_front`). `ref`: 2 (error, metric), default `default_reference`
    of the two fronts.
    """
    front_a = run_front(a, a_partitioned, "a")
    front_b = run_front(b, b_partitioned, "b")
    r = default_reference(front_a, front_b) if ref is None else _as_ref(ref, 2)
    b_dominated = _k.dominated_by(front_b, front_a)
    a_dominated = _k.dominated_by(front_a, front_b)
    union = np.concatenate([front_a, front_b])
    union_mask = _k.nondominated_mask(union)
    from_a = int(union_mask[: front_a.shape[0]].sum())
    return FrontComparison(
        a_dominates_b_pct=100.0 * float(b_dominated.mean()),
        b_dominates_a_pct=100.0 * float(a_dominated.mean()),
        a_share_of_combined_pct=100.0 * from_a / int(union_mask.sum()),
        hv_a=float(_k.hypervolume_2d(front_a, r)),
        hv_b=float(_k.hypervolume_2d(front_b, r)),
        reference=r,
        front_a=front_a,
        front_b=front_b,
    )


def threshold_counts(points: object, thresholds: object) -> np.ndarray:
    """How many rows of `points` (`n x k`) are strictly below each row of `thresholds`.

    `thresholds`: `t x k` upper bounds (e.g. error < e, energy < x mJ, latency < y ms;
    +inf leaves an objective free) -> `t` int64 counts.
    """
    pts = _as_points(points)
    thr = _as_points(thresholds, "thresholds", pts.shape[1])
    below = (pts[None, :, :] < thr[:, None, :]).all(axis=2)
    return below.sum(axis=1).astype(np.int64)
