"""Pareto kernels: non-dominated masks and exact hypervolumes (minimisation).

A point ``a`` dominates ``b`` when ``a <= b`` in every objective and ``a < b`` in at
least one; equal points (duplicates) therefore never dominate each other.

* `nondominated_mask`: lexicographic order first (a dominator always precedes the
  point it dominates, strictly), then every point is checked against the front found
  so far only (a dominated dominator is itself dominated by a front member, and
  front members are never dominated by later points): O(n log n + n * F * k).
* 2-D hypervolume: a sweep in ascending first objective over a "staircase" (the 2-D
  front, first objective ascending, second strictly descending); each point adds the
  part of its box [x, r0] x [y, r1] that the staircase does not cover yet.
* 3-D hypervolume: slices in ascending third objective; the area of each slice is
  the 2-D hypervolume of the points below it, updated by the same staircase gains.
* Traces (hypervolume of the first i points, i = 1..n): 2-D adds each point's
  uncovered area (exactly non-decreasing); 3-D keeps the 3-D front and recomputes
  the volume only when a point enters it (most trials of a search do not).

Points that are not strictly better than the reference point in every objective
contribute nothing. Inputs are C-contiguous float64 with no NaN (the wrappers in
`lens_fast.search.pareto` validate); +inf is allowed and never beats a reference.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from lens_fast.config import NJIT_OPTIONS, PARALLEL_OPTIONS


# --------------------------------------------------------------------- dominance
@nb.njit(**NJIT_OPTIONS)
def _lex_less(points, i, j):
    """Row i of `points` is lexicographically smaller than row j (ties: False)."""
    for c in range(points.shape[1]):
        a = points[i, c]
        b = points[j, c]
        if a < b:
            return True
        if a > b:
            return False
    return False


@nb.njit(**NJIT_OPTIONS)
def lex_order(points):
    """Stable lexicographic argsort of the rows of an `n x k` float64 array -> `n` int64."""
    n = points.shape[0]
    order = np.arange(n)
    buf = np.empty(n, dtype=np.int64)
    width = 1
    while width < n:  # bottom-up merge sort
        for lo in range(0, n, 2 * width):
            mid = min(lo + width, n)
            hi = min(lo + 2 * width, n)
            a, b, o = lo, mid, lo
            while a < mid and b < hi:
                if _lex_less(points, order[b], order[a]):
                    buf[o] = order[b]
                    b += 1
                else:
                    buf[o] = order[a]
                    a += 1
                o += 1
            while a < mid:
                buf[o] = order[a]
                a += 1
                o += 1
            while b < hi:
                buf[o] = order[b]
                b += 1
                o += 1
        order, buf = buf, order
        width *= 2
    return order


@nb.njit(**NJIT_OPTIONS)
def _dominates(points, i, other, j):
    """Row i of `points` dominates row j of `other` (<= everywhere, < somewhere)."""
    strict = False
    for c in range(points.shape[1]):
        a = points[i, c]
        b = other[j, c]
        if a > b:
            return False
        if a < b:
            strict = True
    return strict


@nb.njit(**NJIT_OPTIONS)
def nondominated_mask(points):
    """Non-dominated rows of an `n x k` float64 array (minimisation) -> `n` bool."""
    n = points.shape[0]
    mask = np.zeros(n, dtype=np.bool_)
    order = lex_order(points)
    front = np.empty(n, dtype=np.int64)
    size = 0
    for t in range(n):
        i = order[t]
        dominated = False
        for f in range(size):
            if _dominates(points, front[f], points, i):
                dominated = True
                break
        if not dominated:
            front[size] = i
            size += 1
            mask[i] = True
    return mask


@nb.njit(**PARALLEL_OPTIONS)
def dominated_by(points, front):
    """Rows of `points` (`m x k`) dominated by at least one row of `front` (`n x k`) -> `m` bool."""
    m = points.shape[0]
    out = np.zeros(m, dtype=np.bool_)
    for i in nb.prange(m):
        for j in range(front.shape[0]):
            if _dominates(front, j, points, i):
                out[i] = True
                break
    return out


# --------------------------------------------------------------- 2-D staircase
@nb.njit(**NJIT_OPTIONS)
def _stair_insert(sx, sy, size, x, y, r0, r1):
    """Add (x, y) to a staircase; return (new size, area gained).

    `sx[:size]` ascending, `sy[:size]` strictly descending: the 2-D front of the
    points added so far, all strictly inside the reference box (r0, r1). The gain is
    the area of [x, r0] x [y, r1] not covered yet (>= 0); points it dominates leave.
    """
    # pos: first index with sx > x (points before it have sx <= x).
    lo, hi = 0, size
    while lo < hi:
        mid = (lo + hi) // 2
        if sx[mid] <= x:
            lo = mid + 1
        else:
            hi = mid
    pos = lo
    cur = r1  # the staircase's height at x (lowest y of the points left of x)
    if pos > 0:
        cur = sy[pos - 1]
    if cur <= y:  # weakly dominated: nothing gained, nothing changes
        return size, 0.0
    gain = 0.0
    left = x
    end = pos
    while end < size and sy[end] >= y:  # points to the right that (x, y) dominates
        gain += (sx[end] - left) * (cur - y)
        left = sx[end]
        cur = sy[end]
        end += 1
    right = r0 if end == size else sx[end]
    gain += (right - left) * (cur - y)
    start = pos
    if pos > 0 and sx[pos - 1] == x:  # same x, higher y: dominated by (x, y)
        start = pos - 1
    removed = end - start
    if removed == 0:
        for t in range(size, start, -1):
            sx[t] = sx[t - 1]
            sy[t] = sy[t - 1]
    elif removed > 1:
        for t in range(end, size):
            sx[t - removed + 1] = sx[t]
            sy[t - removed + 1] = sy[t]
    sx[start] = x
    sy[start] = y
    return size - removed + 1, gain


@nb.njit(**NJIT_OPTIONS)
def _inside(points, i, ref):
    for c in range(points.shape[1]):
        if not points[i, c] < ref[c]:
            return False
    return True


@nb.njit(**NJIT_OPTIONS)
def hypervolume_2d(points, ref):
    """Area dominated by an `n x 2` float64 array and bounded by `ref` (2) -> float."""
    n = points.shape[0]
    sx = np.empty(n + 1)
    sy = np.empty(n + 1)
    size = 0
    total = 0.0
    order = lex_order(points)
    for t in range(n):  # ascending x: every gain is one strip, no removals
        i = order[t]
        if _inside(points, i, ref):
            size, gain = _stair_insert(sx, sy, size, points[i, 0], points[i, 1], ref[0], ref[1])
            total += gain
    return total


@nb.njit(**NJIT_OPTIONS)
def hypervolume_3d(points, ref):
    """Volume dominated by an `n x 3` float64 array and bounded by `ref` (3) -> float."""
    n = points.shape[0]
    keep = np.empty(n, dtype=np.int64)
    m = 0
    for i in range(n):
        if _inside(points, i, ref):
            keep[m] = i
            m += 1
    if m == 0:
        return 0.0
    z = np.empty(m)
    for t in range(m):
        z[t] = points[keep[t], 2]
    order = np.argsort(z, kind="mergesort")
    sx = np.empty(m + 1)
    sy = np.empty(m + 1)
    size = 0
    area = 0.0
    total = 0.0
    for t in range(m):
        i = keep[order[t]]
        size, gain = _stair_insert(sx, sy, size, points[i, 0], points[i, 1], ref[0], ref[1])
        area += gain
        z_next = ref[2] if t == m - 1 else z[order[t + 1]]
        total += area * (z_next - points[i, 2])
    return total


# ------------------------------------------------------------------- traces
@nb.njit(**NJIT_OPTIONS)
def hypervolume_trace_2d(points, ref):
    """Hypervolume of the first i rows of an `n x 2` array, i = 1..n -> `n` float64."""
    n = points.shape[0]
    out = np.empty(n)
    sx = np.empty(n + 1)
    sy = np.empty(n + 1)
    size = 0
    total = 0.0
    for i in range(n):
        if _inside(points, i, ref):
            size, gain = _stair_insert(sx, sy, size, points[i, 0], points[i, 1], ref[0], ref[1])
            total += gain
        out[i] = total
    return out


@nb.njit(**NJIT_OPTIONS)
def _contribution_3d(fx, fy, fz, size, px, py, pz, ref, sx, sy):
    """Volume that (px, py, pz) adds to the front `f*[:size]` (sorted by z ascending).

    Slices in z from pz up: in each, the part of the 2-D box [px, r0] x [py, r1] not
    covered by the front members at or below the slice, clipped to that box and kept
    as a staircase in `sx`, `sy` (scratch). Stops once the box is covered.
    """
    box = (ref[0] - px) * (ref[1] - py)
    covered = 0.0
    ss = 0
    total = 0.0
    z_prev = pz
    for f in range(size):
        qz = fz[f]
        if qz > pz:  # a slice [z_prev, qz) ends
            free = box - covered
            if free <= 0.0:
                return total
            total += free * (qz - z_prev)
            z_prev = qz
        ss, gain = _stair_insert(sx, sy, ss, max(fx[f], px), max(fy[f], py), ref[0], ref[1])
        covered += gain
    free = box - covered
    if free > 0.0:
        total += free * (ref[2] - z_prev)
    return total


@nb.njit(**NJIT_OPTIONS)
def hypervolume_trace_3d(points, ref):
    """Hypervolume of the first i rows of an `n x 3` array, i = 1..n -> `n` float64.

    Adds the exclusive contribution of every point that enters the front (>= 0, so
    the trace is non-decreasing); the front is kept sorted by the third objective.
    O(n * F) for a front of F points.
    """
    n = points.shape[0]
    out = np.empty(n)
    fx = np.empty(n + 1)
    fy = np.empty(n + 1)
    fz = np.empty(n + 1)
    sx = np.empty(n + 1)
    sy = np.empty(n + 1)
    size = 0
    total = 0.0
    for i in range(n):
        px, py, pz = points[i, 0], points[i, 1], points[i, 2]
        if _inside(points, i, ref):
            weak = False  # is point i weakly dominated by the front?
            for f in range(size):
                if fx[f] <= px and fy[f] <= py and fz[f] <= pz:
                    weak = True
                    break
            if not weak:
                total += _contribution_3d(fx, fy, fz, size, px, py, pz, ref, sx, sy)
                # Drop the members point i dominates, then insert it after the last
                # member with a z not above its own (the front stays sorted by z).
                kept = 0
                for f in range(size):
                    if not (px <= fx[f] and py <= fy[f] and pz <= fz[f]):
                        fx[kept], fy[kept], fz[kept] = fx[f], fy[f], fz[f]
                        kept += 1
                pos = kept
                while pos > 0 and fz[pos - 1] > pz:
                    fx[pos], fy[pos], fz[pos] = fx[pos - 1], fy[pos - 1], fz[pos - 1]
                    pos -= 1
                fx[pos], fy[pos], fz[pos] = px, py, pz
                size = kept + 1
        out[i] = total
    return out
