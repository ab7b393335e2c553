"""Exact throughput thresholds: lower envelopes of deployment options in u = 1/tu.

Every deployment option k of a model costs, at upload throughput tu (Mbit/s),

    cost_k(tu) = a_k + b_k / tu,    a_k = A_k + ka * s_k,    b_k = kb * s_k

with ``A_k`` the tu-independent part of Algorithm 1 (edge cost up to the cut, plus
the RTT of an option that transmits), ``s_k`` the bytes it transmits, and per metric
(DESIGN.md, Algorithm 1 rewritten):

* latency: ``ka = 0``, ``kb = 8 / 1000`` (ms per byte at 1 Mbit/s);
* energy: ``ka = 8 * alpha / 1e6``, ``kb = 8 * beta / 1e6`` (the radio's
  ``P_tx = alpha * tu + beta`` times the transmission time).

In u = 1/tu each option is a line with slope ``b_k`` (proportional to its bytes), so
the winner over tu in (0, inf) is the lower envelope of lines over u > 0, computed
here exactly (a stack over the options sorted by bytes, the convex-hull trick), not
by scanning a grid. Options come sorted by (bytes, code), as `build_options` sorts
them; ties go to fewer bytes, then to the earlier code, as in `kernels.splits`:

* an option whose ``a`` is not strictly below that of every option before it never
  wins at a finite tu (it is no cheaper anywhere and loses ties) and is dropped;
* at a breakpoint the two neighbours cost the same and the one with fewer bytes (the
  lower-throughput side) keeps it; an option that only touches the envelope at one
  point (three lines through one point) is dropped.

An envelope of m options is written as m codes and m interval starts ``tu_min``
(Mbit/s, strictly increasing, the first 0): option q wins on ``(tu_min[q],
tu_min[q+1]]`` and the last one up to infinity. Breakpoints are computed from
differences of the original quantities, ``tu = kb * (s_j - s_i) / ((A_i - A_j) -
ka * (s_j - s_i))``, which keeps them exact to rounding even when the two options'
costs are large and close.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from lens_fast.config import NJIT_OPTIONS, PARALLEL_OPTIONS
from lens_fast.kernels.layers import MAX_ROWS, REC_WIDTH, walk
from lens_fast.kernels.splits import CHUNK, MAX_OPTIONS, build_options

LATENCY_KB = 8.0 / 1000.0  # ms per byte at 1 Mbit/s


@nb.njit(**NJIT_OPTIONS)
def lower_envelope(k, opt_code, opt_size, opt_base, ka, kb, stack, out_code, out_tu_min):
    """Envelope of k options sorted by (size, code); returns its length m.

    opt_code int64, opt_size float64 (bytes), opt_base float64 (A, ms or mJ): the
    first k entries are used. stack: int64 scratch of length >= k. Writes m codes
    into out_code and m interval starts (Mbit/s; 0 first) into out_tu_min.
    """
    # 1. Drop options whose a = A + ka * s is not strictly below every earlier one.
    #    The running minimum is always the last kept option, so the comparison is
    #    done on differences of the original numbers.
    m = 0
    for j in range(k):
        if m == 0:
            stack[0] = j
            m = 1
            continue
        t = stack[m - 1]
        if (opt_base[j] - opt_base[t]) + ka * (opt_size[j] - opt_size[t]) < 0.0:
            stack[m] = j
            m += 1
    if kb == 0.0:  # every slope is 0: the lowest a wins at every tu
        out_code[0] = opt_code[stack[m - 1]]
        out_tu_min[0] = 0.0
        return 1
    # 2. Convex-hull trick over the kept options (slopes ascending): h entries live
    #    in stack[:h] (an in-place stack: position q is read before h reaches it).
    h = 0
    for q in range(m):
        j = stack[q]
        start = 0.0
        while h > 0:
            t = stack[h - 1]
            ds = opt_size[j] - opt_size[t]
            if ds == 0.0:  # same bytes, j strictly cheaper: t never wins
                h -= 1
                continue
            start = kb * ds / ((opt_base[t] - opt_base[j]) - ka * ds)
            # t wins on (out_tu_min[h-1], start]; empty (or a single tie point that
            # goes to the option below t) -> t never wins. NaN pops too.
            if not (start > out_tu_min[h - 1]):
                h -= 1
                start = 0.0
                continue
            break
        stack[h] = j
        out_tu_min[h] = start
        h += 1
    # An option that would start winning at tu = inf never wins.
    while h > 1 and out_tu_min[h - 1] == np.inf:
        h -= 1
    for q in range(h):
        out_code[q] = opt_code[stack[q]]
    return h


@nb.njit(**NJIT_OPTIONS)
def envelope_one(opt_code, opt_size, opt_base, ka, kb):
    """Envelope of one model's options (any number, sorted by (size, code)).

    Returns (codes int64 `m`, tu_min float64 `m`).
    """
    k = opt_code.shape[0]
    stack = np.empty(k, dtype=np.int64)
    codes = np.empty(k, dtype=np.int64)
    tu_min = np.empty(k, dtype=np.float64)
    m = lower_envelope(k, opt_code, opt_size, opt_base, ka, kb, stack, codes, tu_min)
    return codes[:m].copy(), tu_min[:m].copy()


@nb.njit(**PARALLEL_OPTIONS)
def envelopes(
    batch,
    dac21,
    wire_bytes,
    input_bytes,
    edge_bytes,
    rtt_ms,
    row_lat,
    row_en,
    f_index,
    k_index,
    fc_index,
    ka_en,
    kb_en,
    lat_count,
    lat_code,
    lat_tu_min,
    en_count,
    en_code,
    en_tu_min,
):
    """Latency and energy envelopes of a validated native `n x 22` batch.

    row_lat, row_en: `NUM_ROWS` float64 row costs (ms, mJ); ka_en, kb_en: the energy
    coefficients of the radio (module docstring). Outputs, written in place:
    lat_count, en_count `n` int64 (envelope lengths); lat_code, en_code
    `n x MAX_OPTIONS` int8 split codes; lat_tu_min, en_tu_min `n x MAX_OPTIONS`
    float64 interval starts (Mbit/s). Entries past a row's count are untouched.
    """
    n = batch.shape[0]
    n_chunks = (n + CHUNK - 1) // CHUNK
    for chunk in nb.prange(n_chunks):
        rec = np.empty((MAX_ROWS, REC_WIDTH), dtype=np.int64)
        opt_code = np.empty(MAX_OPTIONS, dtype=np.int64)
        opt_size = np.empty(MAX_OPTIONS, dtype=np.float64)
        opt_lat = np.empty(MAX_OPTIONS, dtype=np.float64)
        opt_en = np.empty(MAX_OPTIONS, dtype=np.float64)
        stack = np.empty(MAX_OPTIONS, dtype=np.int64)
        codes = np.empty(MAX_OPTIONS, dtype=np.int64)
        for i in range(chunk * CHUNK, min(n, (chunk + 1) * CHUNK)):
            rows = walk(batch[i], dac21, wire_bytes, f_index, k_index, fc_index, rec)
            k, _, _ = build_options(
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
            m = lower_envelope(
                k, opt_code, opt_size, opt_lat, 0.0, LATENCY_KB, stack, codes, lat_tu_min[i]
            )
            lat_count[i] = m
            for q in range(m):
                lat_code[i, q] = codes[q]
            m = lower_envelope(
                k, opt_code, opt_size, opt_en, ka_en, kb_en, stack, codes, en_tu_min[i]
            )
            en_count[i] = m
            for q in range(m):
                en_code[i, q] = codes[q]
