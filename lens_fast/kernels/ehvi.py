"""Expected hypervolume improvement with two known objectives and one Gaussian one.

A candidate has known latency ``l`` and energy ``E`` and an unknown error
``e ~ N(mu, sigma^2)``. With the current front P (m points, minimisation) and the
reference point r, the improvement of adding (e, l, E) is

    HVI(e) = integral from e to r_e of A(t) dt,

where A(t) is the area of the candidate's box [l, r_l] x [E, r_E] not dominated, in
the (latency, energy) plane, by the front points whose error is <= t. A(t) is a step
function that changes at the front's errors e_(1) <= ... <= e_(m); between two of
them it is the box minus the union of the boxes of the points seen so far. Taking
the expectation under e ~ N(mu, sigma^2) and swapping the integrals,

    EHVI = integral_{-inf}^{r_e} A(t) Phi((t - mu) / sigma) dt
         = sigma * sum_j A_j [psi(z_{j+1}) - psi(z_j)],   psi(z) = z Phi(z) + phi(z),

with z_j = (t_j - mu) / sigma over the breakpoints t_0 = -inf, t_j = e_(j), and
t_{m+1} = r_e. Each candidate walks the front once in error order while keeping the
union of the seen boxes as a 2-D staircase updated locally: about O(m log m) per
candidate, no sampling.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np

from lens_fast.config import NJIT_OPTIONS, PARALLEL_OPTIONS

CHUNK = 256
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@nb.njit(**NJIT_OPTIONS)
def psi(z):
    """z * Phi(z) + phi(z): the integral of the normal cdf up to z (psi(-inf) = 0)."""
    return z * 0.5 * math.erfc(-z / math.sqrt(2.0)) + INV_SQRT_2PI * math.exp(-0.5 * z * z)


@nb.njit(**NJIT_OPTIONS)
def _staircase_insert(sl, se, k, pl, pe, rl, re):
    """Insert (pl, pe) into a 2-D staircase (l ascending, e strictly descending) of k
    points whose boxes [l, rl] x [e, re] are unioned. Returns (new size, area added).

    A binary search finds the place; the area changes only around it, so the update
    costs the points it removes plus one shift of the arrays.
    """
    lo, hi = 0, k
    while lo < hi:  # first index with l >= pl
        mid = (lo + hi) // 2
        if sl[mid] < pl:
            lo = mid + 1
        else:
            hi = mid
    pos = lo
    if pos > 0 and se[pos - 1] <= pe:
        return k, 0.0  # dominated by the point just left of it
    if pos < k and sl[pos] == pl and se[pos] <= pe:
        return k, 0.0  # same l, no higher e
    end = pos
    while end < k and se[end] >= pe:
        end += 1  # points p dominates
    next_l = sl[end] if end < k else rl
    before = 0.0
    for j in range(pos, end):
        right = sl[j + 1] if j + 1 < k else rl
        before += (right - sl[j]) * (re - se[j])
    first_l = sl[pos] if pos < k else rl
    if pos > 0:
        before += (first_l - sl[pos - 1]) * (re - se[pos - 1])
    after = (next_l - pl) * (re - pe)
    if pos > 0:
        after += (pl - sl[pos - 1]) * (re - se[pos - 1])
    removed = end - pos
    if removed == 0:
        for j in range(k, pos, -1):
            sl[j] = sl[j - 1]
            se[j] = se[j - 1]
        k += 1
    else:
        shift = removed - 1
        if shift > 0:
            for j in range(pos + 1, k - shift):
                sl[j] = sl[j + shift]
                se[j] = se[j + shift]
        k -= shift
    sl[pos] = pl
    se[pos] = pe
    return k, after - before


@nb.njit(**NJIT_OPTIONS)
def ehvi_one(mu, sigma, lat, en, front_err, front_lat, front_en, ref, sl, se):
    """EHVI of one candidate; the front is sorted by error ascending."""
    r_err, r_lat, r_en = ref[0], ref[1], ref[2]
    if lat >= r_lat or en >= r_en:
        return 0.0
    box = (r_lat - lat) * (r_en - en)
    deterministic = not (sigma > 1e-12 * max(1.0, abs(mu)))
    k = 0
    covered = 0.0
    total = 0.0
    prev_t = -np.inf
    prev_psi = 0.0
    for i in range(front_err.shape[0] + 1):
        t = front_err[i] if i < front_err.shape[0] else r_err
        if t > r_err:
            t = r_err
        area = box - covered
        if deterministic:
            lo = max(prev_t, mu)
            if t > lo:
                total += area * (t - lo)
        else:
            cur_psi = psi((t - mu) / sigma)
            total += area * (cur_psi - prev_psi)
            prev_psi = cur_psi
        prev_t = t
        if i == front_err.shape[0] or t >= r_err:
            break
        pl = max(front_lat[i], lat)
        pe = max(front_en[i], en)
        if pl < r_lat and pe < r_en:
            k, added = _staircase_insert(sl, se, k, pl, pe, r_lat, r_en)
            covered += added
            if covered >= box * (1.0 - 1e-15):
                break
    return total if deterministic else sigma * total


@nb.njit(**PARALLEL_OPTIONS)
def ehvi(mu, sigma, lat, en, front_err, front_lat, front_en, ref):
    """EHVI of n candidates (`n` float64 each) against a front (`m` float64 each,
    sorted by error ascending) and a reference point (3,): returns `n` float64."""
    n = mu.shape[0]
    m = front_err.shape[0]
    out = np.empty(n)
    n_chunks = (n + CHUNK - 1) // CHUNK
    for chunk in nb.prange(n_chunks):
        sl = np.empty(m + 1)
        se = np.empty(m + 1)
        for i in range(chunk * CHUNK, min(n, (chunk + 1) * CHUNK)):
            out[i] = ehvi_one(
                mu[i], sigma[i], lat[i], en[i], front_err, front_lat, front_en, ref, sl, se
            )
    return out
