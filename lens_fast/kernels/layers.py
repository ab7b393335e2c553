"""Walk one architecture row by row, in either semantics (DESIGN.md, Algorithm 1).

`walk_native` and `walk_dac21` fill an int64 scratch of shape `MAX_ROWS x 3`, one
record per row: the split code of "cut after this row" (names in
`lens_fast.space.layers`), the row's index into the row tables of
`lens_fast.space.rows`, and the bytes of its output. They return the number of
rows. The last row is the classifier: cutting after it is the all-edge option; the
all-cloud option (send the input) is not a row.

Every kernel that needs an architecture's rows (catalog marking, split scoring,
envelopes) uses these two walks, so the row structure of each semantics is written
exactly once.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from lens_fast.config import FLOAT32_BYTES, NJIT_OPTIONS, PARALLEL_OPTIONS
from lens_fast.space.rows import FC_BASE, FC_OUT, NUM_CONV_STRUCT, NUM_ROWS, POOL_BASE, ZERO_ROW
from lens_fast.space.vgg import COL_FC1, COL_POOL0, NUM_BLOCKS

MAX_ROWS = 23  # native: 15 convs + 5 pools + 2 fc + classifier
REC_WIDTH = 3
CODE, ROW, SIZE = range(REC_WIDTH)

NC, NK, NF = 7, 3, 6  # input-channel, kernel and filter choices
FLAT_PER_RES = NF  # flatten sources per resolution step
FC_SIZES_OFFSET = 2 * NF  # first fc input index of the fc sizes
CLASSIFIER = FC_OUT - 1


@nb.njit(**NJIT_OPTIONS)
def _conv_row(h, cin, ki, fi, mult):
    return (mult - 1) * NUM_CONV_STRUCT + ((h * NC + cin) * NK + ki) * NF + fi


@nb.njit(**NJIT_OPTIONS)
def _emit(rec, r, code, row, size):
    rec[r, CODE] = code
    rec[r, ROW] = row
    rec[r, SIZE] = size
    return r + 1


@nb.njit(**NJIT_OPTIONS)
def walk_native(arch, wire_bytes, f_index, k_index, fc_index, rec):
    """Rows of the native semantics: conv(b+1)_(j+1) -> code 1 + 4b + j, pool(b+1) ->
    4 + 4b, fc1 -> 21, fc2 -> 22, classifier -> 23 (all-edge). Sizes in wire bytes."""
    r = 0
    h = 0
    side = 224
    cin = 0
    fi = 0
    for b in range(NUM_BLOCKS):
        f = arch[3 * b]
        fi = f_index[f]
        ki = k_index[arch[3 * b + 1]]
        size = side * side * f * wire_bytes
        for j in range(arch[3 * b + 2]):
            r = _emit(rec, r, 1 + 4 * b + j, _conv_row(h, cin, ki, fi, 1), size)
            cin = fi + 1
        if arch[COL_POOL0 + b] != 0:
            side //= 2
            r = _emit(rec, r, 4 + 4 * b, POOL_BASE + h * NF + fi, side * side * f * wire_bytes)
            h += 1
    fin = (h - 4) * FLAT_PER_RES + fi
    for c in range(2):
        width = arch[COL_FC1 + c]
        if width != 0:
            oi = fc_index[width]
            r = _emit(rec, r, 21 + c, FC_BASE + fin * FC_OUT + oi, width * wire_bytes)
            fin = FC_SIZES_OFFSET + oi
    return _emit(rec, r, 23, FC_BASE + fin * FC_OUT + CLASSIFIER, 10 * wire_bytes)


@nb.njit(**NJIT_OPTIONS)
def walk_dac21(arch, f_index, k_index, fc_index, rec):
    """Rows of the lens-dac21 semantics: conv block b+1 -> code 2b+1 (its l layers in
    one row, all using the block input's features), pool b+1 -> 2b+2 (zero cost and
    the previous size when absent), fc1 -> 11, fc2 -> 12, classifier -> 13."""
    h = 0
    side = 224
    cin = 0
    fi = 0
    size = 0
    for b in range(NUM_BLOCKS):
        f = arch[3 * b]
        fi = f_index[f]
        ki = k_index[arch[3 * b + 1]]
        size = side * side * f * FLOAT32_BYTES
        _emit(rec, 2 * b, 2 * b + 1, _conv_row(h, cin, ki, fi, arch[3 * b + 2]), size)
        cin = fi + 1
        if arch[COL_POOL0 + b] != 0:
            side //= 2
            size = side * side * f * FLOAT32_BYTES
            _emit(rec, 2 * b + 1, 2 * b + 2, POOL_BASE + h * NF + fi, size)
            h += 1
        else:
            _emit(rec, 2 * b + 1, 2 * b + 2, ZERO_ROW, size)
    fin = (h - 4) * FLAT_PER_RES + fi
    for c in range(2):
        width = arch[COL_FC1 + c]
        if width != 0:
            oi = fc_index[width]
            size = width * FLOAT32_BYTES
            _emit(rec, 10 + c, 11 + c, FC_BASE + fin * FC_OUT + oi, size)
            fin = FC_SIZES_OFFSET + oi
        else:
            _emit(rec, 10 + c, 11 + c, ZERO_ROW, size)
    return _emit(rec, 12, 13, FC_BASE + fin * FC_OUT + CLASSIFIER, 10 * FLOAT32_BYTES)


@nb.njit(**NJIT_OPTIONS)
def walk(arch, dac21, wire_bytes, f_index, k_index, fc_index, rec):
    """Dispatch to `walk_dac21` or `walk_native`; returns the number of rows."""
    if dac21:
        return walk_dac21(arch, f_index, k_index, fc_index, rec)
    return walk_native(arch, wire_bytes, f_index, k_index, fc_index, rec)


@nb.njit(**PARALLEL_OPTIONS)
def _mark_rows(batch, dac21, f_index, k_index, fc_index):
    n = batch.shape[0]
    n_chunks = min(n, 64)
    marks = np.zeros((n_chunks, NUM_ROWS), dtype=np.uint8)
    for chunk in nb.prange(n_chunks):
        rec = np.empty((MAX_ROWS, REC_WIDTH), dtype=np.int64)
        for i in range(chunk * n // n_chunks, (chunk + 1) * n // n_chunks):
            rows = walk(batch[i], dac21, FLOAT32_BYTES, f_index, k_index, fc_index, rec)
            for r in range(rows):
                marks[chunk, rec[r, ROW]] = 1
    return marks.sum(axis=0) > 0


def used_rows(batch: np.ndarray, dac21: bool, f_index, k_index, fc_index) -> np.ndarray:
    """Boolean `NUM_ROWS` mask of the row-table entries a validated native batch uses."""
    if batch.shape[0] == 0:
        return np.zeros(NUM_ROWS, dtype=np.bool_)
    return _mark_rows(batch, dac21, f_index, k_index, fc_index)
