"""Algorithm 1, batched: best split of every candidate at every throughput.

Every deployment option k of a candidate costs, at throughput tu,

    latency_ms = A_lat[k] + size_bytes[k] * ms_per_byte(tu)
    energy_mj  = A_en[k]  + size_bytes[k] * mj_per_byte(tu)

with ``A_lat = edge latency up to the cut (+ RTT when the option transmits)``,
``A_en = edge energy up to the cut``, ``ms_per_byte = 8 / (tu * 1000)`` and
``mj_per_byte = ms_per_byte * (alpha * tu + beta) / 1000`` (DESIGN.md). Both
per-byte prices are computed once per throughput; `tests/naive.py` uses the same
expressions, so kernel and reference agree to the last bits.

Ties go to the option that transmits fewer bytes, then to the earlier cut. Options
are therefore sorted by (bytes, code); an option whose A is not below that of every
option before it can never win (it is no cheaper at any tu and loses ties), so only
the remaining few are evaluated per throughput: the cost per (candidate, tu) is a
handful of fused multiply-adds, independent of the depth of the network.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from lens_fast.config import NJIT_OPTIONS, PARALLEL_OPTIONS
from lens_fast.kernels.layers import CODE, MAX_ROWS, REC_WIDTH, ROW, SIZE, walk

MAX_OPTIONS = MAX_ROWS + 1  # all-cloud + one per row (the last row is all-edge)
CHUNK = 512  # candidates per parallel work item


@nb.njit(**NJIT_OPTIONS)
def build_options(
    rec,
    n_rows,
    row_lat,
    row_en,
    input_bytes,
    edge_bytes,
    rtt_ms,
    opt_code,
    opt_size,
    opt_lat,
    opt_en,
):
    """Deployment options of one walked candidate, sorted by (size, code).

    Returns (number of options, edge latency ms, edge energy mJ), the last two being
    the compute cost of the whole network on the device. Options: all-cloud (code 0),
    a cut after every row but the last whose output is <= `input_bytes`, all-edge
    (the last row's code; transmits `edge_bytes`).
    """
    # Collect in row order: all-cloud first, then the viable cuts, then all-edge.
    opt_code[0] = 0
    opt_size[0] = input_bytes
    opt_lat[0] = rtt_ms
    opt_en[0] = 0.0
    k = 1
    cum_lat = 0.0
    cum_en = 0.0
    for r in range(n_rows):
        cum_lat += row_lat[rec[r, ROW]]
        cum_en += row_en[rec[r, ROW]]
        if r < n_rows - 1 and rec[r, SIZE] <= input_bytes:
            opt_code[k] = rec[r, CODE]
            opt_size[k] = rec[r, SIZE]
            opt_lat[k] = cum_lat + rtt_ms
            opt_en[k] = cum_en
            k += 1
    opt_code[k] = rec[n_rows - 1, CODE]
    opt_size[k] = edge_bytes
    opt_lat[k] = cum_lat + rtt_ms if edge_bytes > 0 else cum_lat
    opt_en[k] = cum_en
    k += 1
    # Sizes mostly shrink along a network, so an insertion sort from the back is
    # near-linear. Equal sizes keep the earlier code first.
    for i in range(k - 2, -1, -1):
        c, s, a, e = opt_code[i], opt_size[i], opt_lat[i], opt_en[i]
        j = i
        while j + 1 < k and (opt_size[j + 1] < s or (opt_size[j + 1] == s and opt_code[j + 1] < c)):
            opt_code[j] = opt_code[j + 1]
            opt_size[j] = opt_size[j + 1]
            opt_lat[j] = opt_lat[j + 1]
            opt_en[j] = opt_en[j + 1]
            j += 1
        opt_code[j] = c
        opt_size[j] = s
        opt_lat[j] = a
        opt_en[j] = e
    return k, cum_lat, cum_en


@nb.njit(**NJIT_OPTIONS)
def prune(k, opt_a, keep):
    """Indices (into the sorted options) that can win: A strictly below all before it."""
    m = 0
    best = np.inf
    for j in range(k):
        if opt_a[j] < best:
            best = opt_a[j]
            keep[m] = j
            m += 1
    return m


HULL_MARGIN = 1e-9  # a line is dropped only when clearly (relatively) above the envelope


@nb.njit(**NJIT_OPTIONS)
def envelope_in_range(m, keep, opt_size, opt_a, x_lo, x_hi, hull):
    """The options of `keep[:m]` (sizes ascending, A strictly descending) that win
    somewhere in price range [x_lo, x_hi]: the lower envelope of the lines A + size*x
    restricted to the range, written to `hull` in size order; returns their number.

    The envelope is built from the steepest line (it wins as x -> 0) down; a line is
    dropped only when its neighbours cross clearly (by `HULL_MARGIN`) before it
    appears, and options active only clearly outside the range are dropped, so a
    near-tie is always left to the exact comparison of `best_over_tu`.
    """
    n = 0
    for q in range(m - 1, -1, -1):
        j = keep[q]
        if n > 0 and opt_size[hull[n - 1]] == opt_size[j]:
            continue  # same slope, higher intercept: never below the one kept
        while n >= 2:
            p1, p2 = hull[n - 2], hull[n - 1]
            x12 = (opt_a[p2] - opt_a[p1]) / (opt_size[p1] - opt_size[p2])
            x13 = (opt_a[j] - opt_a[p1]) / (opt_size[p1] - opt_size[j])
            if x13 <= x12 * (1.0 - HULL_MARGIN):
                n -= 1  # p2 is above the envelope everywhere
            else:
                break
        hull[n] = j
        n += 1
    # hull[0..n): slopes descending; line i wins on [b(i-1, i), b(i, i+1)].
    lo = x_lo * (1.0 - HULL_MARGIN)
    hi = x_hi * (1.0 + HULL_MARGIN)
    out = 0
    prev_b = 0.0
    for i in range(n):
        j = hull[i]
        if i + 1 < n:
            nxt = hull[i + 1]
            b = (opt_a[nxt] - opt_a[j]) / (opt_size[j] - opt_size[nxt])
        else:
            b = np.inf
        if b >= lo and prev_b <= hi:
            hull[out] = j
            out += 1
        prev_b = b
    # Sizes ascending, for the tie rule (fewer bytes first).
    for i in range(out // 2):
        hull[i], hull[out - 1 - i] = hull[out - 1 - i], hull[i]
    return out


@nb.njit(**NJIT_OPTIONS)
def best_over_tu(k, opt_code, opt_size, opt_a, per_byte, scratch, out_value, out_code):
    """Minimum of A + size * per_byte[t] over the options, for every t (ties: first).

    scratch: `2 x MAX_OPTIONS` int64 work space.
    """
    pruned = scratch[0]
    keep = scratch[1]
    m = prune(k, opt_a, pruned)
    x_lo = np.inf
    x_hi = -np.inf
    for t in range(per_byte.shape[0]):
        x_lo = min(x_lo, per_byte[t])
        x_hi = max(x_hi, per_byte[t])
    m = envelope_in_range(m, pruned, opt_size, opt_a, x_lo, x_hi, keep)
    j = keep[0]
    a = opt_a[j]
    s = opt_size[j]
    c = opt_code[j]
    for t in range(per_byte.shape[0]):
        out_value[t] = a + s * per_byte[t]
        out_code[t] = c
    for q in range(1, m):
        j = keep[q]
        a = opt_a[j]
        s = opt_size[j]
        c = opt_code[j]
        for t in range(per_byte.shape[0]):
            v = a + s * per_byte[t]
            if v < out_value[t]:
                out_value[t] = v
                out_code[t] = c


@nb.njit(**PARALLEL_OPTIONS)
def score(
    batch,
    dac21,
    wire_bytes,
    input_bytes,
    edge_bytes,
    rtt_ms,
    ms_per_byte,
    mj_per_byte,
    row_lat,
    row_en,
    f_index,
    k_index,
    fc_index,
    lat_value,
    lat_code,
    en_value,
    en_code,
    edge_lat,
    edge_en,
):
    """Score a validated native `n x 22` batch at T throughputs.

    ms_per_byte, mj_per_byte: `T` float64 prices of one transmitted byte.
    row_lat, row_en: `NUM_ROWS` float64 row costs (ms, mJ) of `lens_fast.space.rows`.
    Outputs (written in place): lat_value, en_value `n x T` float64 (ms, mJ);
    lat_code, en_code `n x T` int8 split codes; edge_lat, edge_en `n` float64, the
    compute cost of the whole network on the device.
    """
    n = batch.shape[0]
    n_chunks = (n + CHUNK - 1) // CHUNK
    for chunk in nb.prange(n_chunks):
        rec = np.empty((MAX_ROWS, REC_WIDTH), dtype=np.int64)
        opt_code = np.empty(MAX_OPTIONS, dtype=np.int64)
        opt_size = np.empty(MAX_OPTIONS, dtype=np.float64)
        opt_lat = np.empty(MAX_OPTIONS, dtype=np.float64)
        opt_en = np.empty(MAX_OPTIONS, dtype=np.float64)
        keep = np.empty((2, MAX_OPTIONS), dtype=np.int64)
        for i in range(chunk * CHUNK, min(n, (chunk + 1) * CHUNK)):
            rows = walk(batch[i], dac21, wire_bytes, f_index, k_index, fc_index, rec)
            k, total_lat, total_en = build_options(
                rec,
                rows,
                row_lat,
                row_en,
                input_bytes,
                edge_bytes,
                rtt_ms,
                opt_code,
                opt_size,
                opt_lat,
                opt_en,
            )
            edge_lat[i] = total_lat
            edge_en[i] = total_en
            best_over_tu(
                k, opt_code, opt_size, opt_lat, ms_per_byte, keep, lat_value[i], lat_code[i]
            )
            best_over_tu(k, opt_code, opt_size, opt_en, mj_per_byte, keep, en_value[i], en_code[i])
