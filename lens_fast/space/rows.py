"""Row tables: the cost of every row any architecture can have, per semantics.

A *row* is what Algorithm 1 sums and cuts after (DESIGN.md): in ``native`` a conv
with its batchnorm and relu, a pool, an fc with its relu, the classifier; in
``lens-dac21`` a whole conv block (``l`` layers), a pool, an fc row, the classifier
row, or an absent pool/fc (zero cost). Every possible row has an index into one
table of `NUM_ROWS` entries:

* conv rows: ``(mult - 1) * 630 + ((h * 7 + cin) * 3 + k) * 6 + f`` (resolution
  step h, input-channel choice cin, kernel choice k, filter choice f, and the
  lens-dac21 layer count ``mult``; native rows always have mult = 1);
* pool rows: ``POOL_BASE + h * 6 + f``;
* fc rows: ``FC_BASE + in * 7 + out`` (12 flatten inputs then 6 fc sizes; 6 fc
  outputs then the classifier);
* `ZERO_ROW`.

`row_costs` turns per-config latency and power into per-row latency and energy with
the aggregation rules of each semantics, in numpy, once per batch; the kernels then
gather one (latency, energy) pair per row. `row_config_ids` says which layer configs
each row uses, so a batch's catalog follows from the rows it uses.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from lens_fast.config import LENS_DAC21_SPEEDUP
from lens_fast.space.catalog import (
    CHANNEL_CHOICES,
    FC_OUT_CHOICES,
    NUM_CONV_RES,
    NUM_FC_IN,
    universe,
)
from lens_fast.space.vgg import F_CHOICES, K_CHOICES, L_CHOICES

NF, NK, NC = len(F_CHOICES), len(K_CHOICES), len(CHANNEL_CHOICES)
NUM_CONV_STRUCT = NUM_CONV_RES * NC * NK * NF  # 630
POOL_BASE = NUM_CONV_STRUCT * len(L_CHOICES)  # 1890
FC_OUT = len(FC_OUT_CHOICES)  # 7
FC_BASE = POOL_BASE + NUM_CONV_RES * NF  # 1920
ZERO_ROW = FC_BASE + NUM_FC_IN * FC_OUT  # 2046
NUM_ROWS = ZERO_ROW + 1


@lru_cache(maxsize=2)
def row_config_ids(semantics: str) -> np.ndarray:
    """`NUM_ROWS x 3` int32: the universe config ids each row uses (-1 = none)."""
    uni = universe()
    ids = np.full((NUM_ROWS, 3), -1, dtype=np.int32)
    conv = uni.conv_id.reshape(-1)  # (h, cin, k, f) order, as the row layout
    h, _, _, f = np.unravel_index(np.arange(NUM_CONV_STRUCT), uni.conv_id.shape)
    for m in range(len(L_CHOICES)):
        rows = slice(m * NUM_CONV_STRUCT, (m + 1) * NUM_CONV_STRUCT)
        ids[rows, 0] = conv
        ids[rows, 1] = uni.bn_id[h, f]
        ids[rows, 2] = uni.relu_id[h, f]
    ids[POOL_BASE:FC_BASE, 0] = uni.pool_id.reshape(-1)
    ids[FC_BASE:ZERO_ROW, 0] = uni.fc_id.reshape(-1)
    out = np.tile(np.arange(FC_OUT), NUM_FC_IN)
    with_relu = np.ones(out.shape, dtype=bool)
    if semantics == "native":  # the native classifier is the fc alone
        with_relu = out < FC_OUT - 1
    ids[FC_BASE:ZERO_ROW, 1] = np.where(with_relu, uni.fc_relu_id[out], -1)
    return ids


def row_costs(
    latency_ms: np.ndarray, power_w: np.ndarray, semantics: str
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row (latency ms, energy mJ), each `NUM_ROWS` float64, from `U` per-config costs.

    native: a row's latency is the sum of its configs' latencies, its energy the sum
    of latency x power. lens-dac21: conv block ``mult * (conv + bn + relu) / 1.6`` at
    the mean power of the three; pool ``latency / 1.6``; fc rows (and the classifier)
    fc + relu at the mean power of the two; absent rows 0. Rows whose configs are
    not known (NaN) stay NaN and must not be used.
    """
    ids = row_config_ids(semantics)
    lat_c = np.append(latency_ms, 0.0)  # index -1 -> an extra 0 entry
    pow_c = np.append(power_w, 0.0)
    a, b, c = (ids[:, j] for j in range(3))
    if semantics == "native":
        lat = lat_c[a] + lat_c[b] + lat_c[c]
        en = lat_c[a] * pow_c[a] + lat_c[b] * pow_c[b] + lat_c[c] * pow_c[c]
        lat[ZERO_ROW] = en[ZERO_ROW] = 0.0
        return lat, en
    lat = np.zeros(NUM_ROWS)
    en = np.zeros(NUM_ROWS)
    for m in range(len(L_CHOICES)):
        rows = slice(m * NUM_CONV_STRUCT, (m + 1) * NUM_CONV_STRUCT)
        ra, rb, rc = a[rows], b[rows], c[rows]
        lat[rows] = (m + 1) * (lat_c[ra] + lat_c[rb] + lat_c[rc]) / LENS_DAC21_SPEEDUP
        en[rows] = lat[rows] * ((pow_c[ra] + pow_c[rb] + pow_c[rc]) / 3.0)
    rows = slice(POOL_BASE, FC_BASE)
    lat[rows] = lat_c[a[rows]] / LENS_DAC21_SPEEDUP
    en[rows] = lat[rows] * pow_c[a[rows]]
    rows = slice(FC_BASE, ZERO_ROW)
    lat[rows] = lat_c[a[rows]] + lat_c[b[rows]]
    en[rows] = lat[rows] * ((pow_c[a[rows]] + pow_c[b[rows]]) / 2.0)
    return lat, en


def configs_of_rows(used_rows: np.ndarray, semantics: str) -> np.ndarray:
    """Boolean `U` mask of the configs that the rows selected by `used_rows` need."""
    ids = row_config_ids(semantics)[used_rows].reshape(-1)
    mask = np.zeros(universe().size, dtype=np.bool_)
    mask[ids[ids >= 0]] = True
    return mask
