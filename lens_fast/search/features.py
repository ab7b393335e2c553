"""GP inputs: the native encoding mapped to `[0, 1]^22` (choice index / (choices - 1)).

Filters, kernels and depths are ordinal (their choice index), pools are 0/1, fc
sizes are ordinal with 0 meaning absent. The map is one-to-one on the space.
"""

from __future__ import annotations

import numpy as np

from lens_fast.space.vgg import F_CHOICES, FC_CHOICES, K_CHOICES, L_CHOICES, NUM_BLOCKS

_F = {v: i / (len(F_CHOICES) - 1) for i, v in enumerate(F_CHOICES)}
_K = {v: i / (len(K_CHOICES) - 1) for i, v in enumerate(K_CHOICES)}
_L = {v: i / (len(L_CHOICES) - 1) for i, v in enumerate(L_CHOICES)}
_FC = {0: 0.0, **{v: (i + 1) / len(FC_CHOICES) for i, v in enumerate(FC_CHOICES)}}


def _table(mapping: dict[int, float]) -> np.ndarray:
    table = np.full(max(mapping) + 1, np.nan)
    for value, x in mapping.items():
        table[value] = x
    return table


_TABLES = [_table(_F), _table(_K), _table(_L)]
_FC_TABLE = _table(_FC)


def features(batch: np.ndarray) -> np.ndarray:
    """`n x 22` float64 GP inputs in [0, 1] of a validated native `n x 22` batch."""
    batch = np.asarray(batch)
    out = np.empty(batch.shape, dtype=np.float64)
    for b in range(NUM_BLOCKS):
        for j in range(3):
            out[:, 3 * b + j] = _TABLES[j][batch[:, 3 * b + j]]
    out[:, 15:20] = batch[:, 15:20]
    out[:, 20] = _FC_TABLE[batch[:, 20]]
    out[:, 21] = _FC_TABLE[batch[:, 21]]
    return out
