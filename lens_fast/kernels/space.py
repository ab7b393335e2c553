"""Validation of encoded batches (the space's rules as a parallel kernel).

Each column's allowed values are a row of a `d x 8193` uint8 look-up table built
from the space's choices; the native encoding also needs at least four pools and at
least one FC. The driver returns a per-row code: -1 for a valid row, ``c < d`` for
the first invalid column, ``d`` for the pool rule, ``d + 1`` for the FC rule.
"""

from __future__ import annotations

from functools import lru_cache

import numba as nb
import numpy as np

from lens_fast.config import PARALLEL_OPTIONS
from lens_fast.space.vgg import COL_FC1, COL_FC2, COL_POOL0, FC_CHOICES, MIN_POOLS, NUM_BLOCKS


@lru_cache(maxsize=2)
def allowed_table(encoding: str) -> np.ndarray:
    """`d x (max value + 1)` uint8: table[c, v] == 1 iff v is allowed in column c."""
    from lens_fast.space.vgg import _field_choices

    choices = _field_choices(encoding)
    table = np.zeros((len(choices), max(FC_CHOICES) + 1), dtype=np.uint8)
    for c, allowed in enumerate(choices):
        table[c, list(allowed)] = 1
    return table


@nb.njit(**PARALLEL_OPTIONS)
def row_errors(batch, allowed, native):
    """`n` int32 codes (see module docstring) for an `n x d` int32 batch."""
    n, d = batch.shape
    top = allowed.shape[1]
    codes = np.empty(n, dtype=np.int32)
    for i in nb.prange(n):
        code = -1
        for c in range(d):
            v = batch[i, c]
            if v < 0 or v >= top or allowed[c, v] == 0:
                code = c
                break
        if code < 0 and native:
            pools = 0
            for b in range(NUM_BLOCKS):
                pools += batch[i, COL_POOL0 + b]
            if pools < MIN_POOLS:
                code = d
            elif batch[i, COL_FC1] == 0 and batch[i, COL_FC2] == 0:
                code = d + 1
        codes[i] = code
    return codes


def first_invalid(batch: np.ndarray, encoding: str) -> tuple[int, int]:
    """(row, code) of the first invalid row of an int32 batch, or (-1, -1)."""
    codes = row_errors(batch, allowed_table(encoding), encoding == "native")
    bad = np.flatnonzero(codes >= 0)
    if bad.size == 0:
        return -1, -1
    return int(bad[0]), int(codes[bad[0]])
