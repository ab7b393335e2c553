"""Validation of encoded batches (the space's rules as a parallel kernel).

Each driver returns ``(row, code)`` of the first invalid row, or ``(-1, -1)``:
``code < d`` names the offending column, ``code == d`` the pool rule (at least
four pools), ``code == d + 1`` the FC rule (at least one FC; native only).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from lens_fast.config import NJIT_OPTIONS, PARALLEL_OPTIONS
from lens_fast.space.vgg import (
    COL_FC1,
    COL_FC2,
    COL_POOL0,
    F_CHOICES,
    FC_CHOICES,
    K_CHOICES,
    L_CHOICES,
    MIN_POOLS,
    NATIVE_WIDTH,
    NUM_BLOCKS,
    PAPER_WIDTH,
    PCOL_FC1,
    PCOL_FC2,
    PCOL_P,
)

_F = np.asarray(F_CHOICES, dtype=np.int64)
_K = np.asarray(K_CHOICES, dtype=np.int64)
_L = np.asarray(L_CHOICES, dtype=np.int64)
_FC = np.asarray(FC_CHOICES, dtype=np.int64)


@nb.njit(**NJIT_OPTIONS)
def _member(value, choices):
    for c in choices:
        if value == c:
            return True
    return False


@nb.njit(**NJIT_OPTIONS)
def _block_error(row, f, k, ell):
    """Column of the first invalid block field of one row, or -1."""
    for b in range(NUM_BLOCKS):
        if not _member(row[3 * b], f):
            return 3 * b
        if not _member(row[3 * b + 1], k):
            return 3 * b + 1
        if not _member(row[3 * b + 2], ell):
            return 3 * b + 2
    return -1


@nb.njit(**NJIT_OPTIONS)
def _native_row_error(row, f, k, ell, fc):
    col = _block_error(row, f, k, ell)
    if col >= 0:
        return col
    pools = 0
    for b in range(NUM_BLOCKS):
        v = row[COL_POOL0 + b]
        if v != 0 and v != 1:
            return COL_POOL0 + b
        pools += v
    for c in (COL_FC1, COL_FC2):
        if row[c] != 0 and not _member(row[c], fc):
            return c
    if pools < MIN_POOLS:
        return NATIVE_WIDTH
    if row[COL_FC1] == 0 and row[COL_FC2] == 0:
        return NATIVE_WIDTH + 1
    return -1


@nb.njit(**NJIT_OPTIONS)
def _paper_row_error(row, f, k, ell, fc):
    col = _block_error(row, f, k, ell)
    if col >= 0:
        return col
    if row[PCOL_P] < 1 or row[PCOL_P] > NUM_BLOCKS + 1:
        return PCOL_P
    if not _member(row[PCOL_FC1], fc):
        return PCOL_FC1
    if row[PCOL_FC2] != 0 and not _member(row[PCOL_FC2], fc):
        return PCOL_FC2
    return -1


@nb.njit(**PARALLEL_OPTIONS)
def _row_errors(batch, native, f, k, ell, fc):
    n = batch.shape[0]
    codes = np.empty(n, dtype=np.int32)
    for i in nb.prange(n):
        if native:
            codes[i] = _native_row_error(batch[i], f, k, ell, fc)
        else:
            codes[i] = _paper_row_error(batch[i], f, k, ell, fc)
    return codes


def _first(codes: np.ndarray) -> tuple[int, int]:
    bad = np.flatnonzero(codes >= 0)
    if bad.size == 0:
        return -1, -1
    return int(bad[0]), int(codes[bad[0]])


def first_invalid_native(batch: np.ndarray) -> tuple[int, int]:
    """First invalid row of a native `n x 22` int32 batch: (row, code) or (-1, -1)."""
    return _first(_row_errors(batch, True, _F, _K, _L, _FC))


def first_invalid_paper(batch: np.ndarray) -> tuple[int, int]:
    """First invalid row of a paper `n x 18` int32 batch: (row, code) or (-1, -1)."""
    assert batch.shape[1] == PAPER_WIDTH
    return _first(_row_errors(batch, False, _F, _K, _L, _FC))
