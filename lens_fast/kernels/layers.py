"""Walk one architecture row by row, in either semantics (DESIGN.md, Algorithm 1).

`walk_native` and `walk_dac21` fill an int64 scratch of shape `MAX_ROWS x 7`, one
record per row of the semantics, and return the number of rows. A record holds:

* ``CODE``: the split code of "cut after this row" (see `lens_fast.space.layers`);
* ``KIND``: how the row's cost is aggregated from its configs (the ``K_*`` below);
* ``ID1..ID3``: universe config ids the row uses (-1 when unused);
* ``SIZE``: bytes of the row's output (what a cut after it transmits);
* ``MULT``: repetitions (the lens-dac21 conv block counts its ``l`` layers).

The last record is the classifier: cutting after it is the all-edge option. The
all-cloud option (send the input) is not a row. Every kernel that needs layers
(catalog marking, split scoring, envelopes) uses these two walks, so the row
structure of each semantics is written exactly once.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from lens_fast.config import FLOAT32_BYTES, LENS_DAC21_SPEEDUP, NJIT_OPTIONS, PARALLEL_OPTIONS
from lens_fast.space.vgg import COL_FC1, COL_POOL0, NUM_BLOCKS

MAX_ROWS = 23  # native: 15 convs + 5 pools + 2 fc + classifier
REC_WIDTH = 7
CODE, KIND, ID1, ID2, ID3, SIZE, MULT = range(REC_WIDTH)

# Aggregation kinds.
K_SUM = 0  # native: latency = sum of latencies, energy = sum of latency * power
K_DAC_CONV = 1  # lens-dac21 block: l * (conv + bn + relu) / 1.6, power = mean of three
K_DAC_POOL = 2  # lens-dac21 pool: latency / 1.6
K_DAC_FC = 3  # lens-dac21 fc + relu: latencies added, power = mean of two
K_ZERO = 4  # lens-dac21 absent pool or fc: costs nothing, repeats the previous size

NUM_FLAT_PER_RES = 6  # flatten sources per resolution step (one per filter choice)
FC_CLASSIFIER = 6  # column of the classifier in fc_id / fc_relu_id
FC_SIZES_OFFSET = 12  # first fc_id row of the fc-size inputs


@nb.njit(**NJIT_OPTIONS)
def _emit(rec, r, code, kind, id1, id2, id3, size, mult):
    rec[r, CODE] = code
    rec[r, KIND] = kind
    rec[r, ID1] = id1
    rec[r, ID2] = id2
    rec[r, ID3] = id3
    rec[r, SIZE] = size
    rec[r, MULT] = mult


@nb.njit(**NJIT_OPTIONS)
def walk_native(row, wire_bytes, conv_id, bn_id, relu_id, pool_id, fc_id, fc_relu_id,
                f_index, k_index, fc_index, rec):  # fmt: skip
    """Rows of the native semantics: each conv fused with its bn and relu, each pool,
    each fc with its relu, the classifier fc. Codes: 1 + 4*b + j for conv(b+1)_(j+1),
    4 + 4*b for pool(b+1), 21 fc1, 22 fc2, 23 classifier (all-edge)."""
    r = 0
    h = 0
    side = 224
    cin = 0
    fi = 0
    for b in range(NUM_BLOCKS):
        f = row[3 * b]
        fi = f_index[f]
        ki = k_index[row[3 * b + 1]]
        bn = bn_id[h, fi]
        relu = relu_id[h, fi]
        size = side * side * f * wire_bytes
        for j in range(row[3 * b + 2]):
            _emit(rec, r, 1 + 4 * b + j, K_SUM, conv_id[h, cin, ki, fi], bn, relu, size, 1)
            r += 1
            cin = fi + 1
        if row[COL_POOL0 + b] != 0:
            pool = pool_id[h, fi]
            h += 1
            side //= 2
            _emit(rec, r, 4 + 4 * b, K_SUM, pool, -1, -1, side * side * f * wire_bytes, 1)
            r += 1
    fin = (h - 4) * NUM_FLAT_PER_RES + fi
    for c in range(2):
        width = row[COL_FC1 + c]
        if width != 0:
            oi = fc_index[width]
            _emit(rec, r, 21 + c, K_SUM, fc_id[fin, oi], fc_relu_id[oi], -1, width * wire_bytes, 1)
            r += 1
            fin = FC_SIZES_OFFSET + oi
    _emit(rec, r, 23, K_SUM, fc_id[fin, FC_CLASSIFIER], -1, -1, 10 * wire_bytes, 1)
    return r + 1


@nb.njit(**NJIT_OPTIONS)
def walk_dac21(row, conv_id, bn_id, relu_id, pool_id, fc_id, fc_relu_id,
               f_index, k_index, fc_index, rec):  # fmt: skip
    """Rows of the lens-dac21 semantics (the authors' code): conv block b+1 (code
    2b+1), pool b+1 (code 2b+2, zero cost when absent), fc1 (11), fc2 (12), and the
    classifier fc + relu (13, all-edge). Sizes are float32 except what the caller
    adds for the uint8 input; the block's conv uses the block input's features for
    all its l layers."""
    h = 0
    side = 224
    cin = 0
    fi = 0
    size = 0
    for b in range(NUM_BLOCKS):
        f = row[3 * b]
        fi = f_index[f]
        ki = k_index[row[3 * b + 1]]
        size = side * side * f * FLOAT32_BYTES
        conv = conv_id[h, cin, ki, fi]
        _emit(rec, 2 * b, 2 * b + 1, K_DAC_CONV, conv, bn_id[h, fi], relu_id[h, fi], size,
              row[3 * b + 2])  # fmt: skip
        cin = fi + 1
        if row[COL_POOL0 + b] != 0:
            pool = pool_id[h, fi]
            h += 1
            side //= 2
            size = side * side * f * FLOAT32_BYTES
            _emit(rec, 2 * b + 1, 2 * b + 2, K_DAC_POOL, pool, -1, -1, size, 1)
        else:
            _emit(rec, 2 * b + 1, 2 * b + 2, K_ZERO, -1, -1, -1, size, 1)
    fin = (h - 4) * NUM_FLAT_PER_RES + fi
    for c in range(2):
        width = row[COL_FC1 + c]
        if width != 0:
            oi = fc_index[width]
            size = width * FLOAT32_BYTES
            _emit(rec, 10 + c, 11 + c, K_DAC_FC, fc_id[fin, oi], fc_relu_id[oi], -1, size, 1)
            fin = FC_SIZES_OFFSET + oi
        else:
            _emit(rec, 10 + c, 11 + c, K_ZERO, -1, -1, -1, size, 1)
    _emit(rec, 12, 13, K_DAC_FC, fc_id[fin, FC_CLASSIFIER], fc_relu_id[FC_CLASSIFIER], -1,
          10 * FLOAT32_BYTES, 1)  # fmt: skip
    return 13


@nb.njit(**NJIT_OPTIONS)
def walk(row, dac21, wire_bytes, conv_id, bn_id, relu_id, pool_id, fc_id, fc_relu_id,
         f_index, k_index, fc_index, rec):  # fmt: skip
    """Dispatch to `walk_dac21` or `walk_native`; returns the number of rows."""
    if dac21:
        return walk_dac21(row, conv_id, bn_id, relu_id, pool_id, fc_id, fc_relu_id,
                          f_index, k_index, fc_index, rec)  # fmt: skip
    return walk_native(row, wire_bytes, conv_id, bn_id, relu_id, pool_id, fc_id, fc_relu_id,
                       f_index, k_index, fc_index, rec)  # fmt: skip


@nb.njit(**NJIT_OPTIONS)
def row_cost(rec, r, latency_ms, power_w):
    """(latency ms, energy mJ) of record r from per-config latency and power arrays."""
    kind = rec[r, KIND]
    if kind == K_ZERO:
        return 0.0, 0.0
    a = rec[r, ID1]
    b = rec[r, ID2]
    c = rec[r, ID3]
    if kind == K_SUM:
        lat = latency_ms[a]
        en = latency_ms[a] * power_w[a]
        if b >= 0:
            lat += latency_ms[b]
            en += latency_ms[b] * power_w[b]
        if c >= 0:
            lat += latency_ms[c]
            en += latency_ms[c] * power_w[c]
        return lat, en
    if kind == K_DAC_CONV:
        lat = rec[r, MULT] * (latency_ms[a] + latency_ms[b] + latency_ms[c]) / LENS_DAC21_SPEEDUP
        return lat, lat * ((power_w[a] + power_w[b] + power_w[c]) / 3.0)
    if kind == K_DAC_POOL:
        lat = latency_ms[a] / LENS_DAC21_SPEEDUP
        return lat, lat * power_w[a]
    lat = latency_ms[a] + latency_ms[b]  # K_DAC_FC
    return lat, lat * ((power_w[a] + power_w[b]) / 2.0)


@nb.njit(**PARALLEL_OPTIONS)
def _mark_used(batch, dac21, n_configs, conv_id, bn_id, relu_id, pool_id, fc_id, fc_relu_id,
               f_index, k_index, fc_index):  # fmt: skip
    n = batch.shape[0]
    n_chunks = min(n, 64)
    marks = np.zeros((n_chunks, n_configs), dtype=np.uint8)
    for chunk in nb.prange(n_chunks):
        rec = np.empty((MAX_ROWS, REC_WIDTH), dtype=np.int64)
        for i in range(chunk * n // n_chunks, (chunk + 1) * n // n_chunks):
            rows = walk(batch[i], dac21, 4, conv_id, bn_id, relu_id, pool_id, fc_id,
                        fc_relu_id, f_index, k_index, fc_index, rec)  # fmt: skip
            for r in range(rows):
                for col in range(ID1, ID3 + 1):
                    if rec[r, col] >= 0:
                        marks[chunk, rec[r, col]] = 1
    used = np.zeros(n_configs, dtype=np.bool_)
    for chunk in range(n_chunks):
        for u in range(n_configs):
            if marks[chunk, u]:
                used[u] = True
    return used


def used_configs(batch: np.ndarray, dac21: bool, uni) -> np.ndarray:
    """Boolean `U` mask of the universe configs a validated native batch uses."""
    if batch.shape[0] == 0:
        return np.zeros(uni.size, dtype=np.bool_)
    return _mark_used(batch, dac21, uni.size, *uni.tables())
