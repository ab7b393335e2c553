"""Layer configs of the VGG space: the universe of all of them, and per-batch catalogs.

A layer config is what a device predictor sees: ``(op, in_features, out_features,
k2f)`` with the unused fields 0 (DESIGN.md, "Predictor features"):

* conv: ``(in_features, k*k*f_out)``; batchnorm and relu: ``(features)``;
* pool: ``(in_features, out_features)``; fc: ``(in_features, out_features)``.

The *universe* enumerates every config any architecture of the space can produce
(with a 224x224x3 input, in either semantics) and gives each distinct config an id.
Structural tables map what a kernel knows while walking an architecture (resolution
step, input-channel choice, kernel choice, filter choice, ...) to that id, so kernels
never hash. A *catalog* is the subset of the universe that one batch needs: the
device is asked once per catalog config, never once per candidate layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from lens_fast.config import INPUT_CHANNELS, INPUT_SIDE_PX, NUM_CLASSES
from lens_fast.space.vgg import F_CHOICES, FC_CHOICES, K_CHOICES, NUM_BLOCKS

OP_NAMES: tuple[str, ...] = ("conv", "batchnorm", "relu", "pool", "fc")
OP_CONV, OP_BATCHNORM, OP_RELU, OP_POOL, OP_FC = range(len(OP_NAMES))

# Resolution steps 0..5: side 224 >> h. Convs and pools happen at h <= 4; the
# flattened features feed FC1 at h = 4 (four pools) or h = 5 (five pools).
NUM_CONV_RES = NUM_BLOCKS
CHANNEL_CHOICES: tuple[int, ...] = (INPUT_CHANNELS, *F_CHOICES)  # conv input channels
FC_OUT_CHOICES: tuple[int, ...] = (*FC_CHOICES, NUM_CLASSES)  # fc outputs; last = classifier
NUM_FLAT = 2 * len(F_CHOICES)  # flatten sources: (h in {4, 5}) x filters
NUM_FC_IN = NUM_FLAT + len(FC_CHOICES)


def side_px(h: int) -> int:
    """Feature-map side at resolution step h (224, 112, 56, 28, 14, 7)."""
    return INPUT_SIDE_PX >> h


@dataclass(frozen=True)
class LayerUniverse:
    """Every layer config of the space, deduplicated, with structural id tables.

    Attributes (U = number of distinct configs):
        op: `U` int8, an index into OP_NAMES.
        in_features, out_features, k2f: `U` int64 (0 where unused).
        conv_id: `5 x 7 x 3 x 6` int32 [res step, input-channel choice, k choice, f choice].
        bn_id, relu_id, pool_id: `5 x 6` int32 [res step, f choice].
        fc_id: `18 x 7` int32 [input (12 flatten sources, then 6 fc sizes), output
            (6 fc sizes, then the 10-class classifier)].
        fc_relu_id: `7` int32 [fc output choice].
        f_index, k_index, fc_index: value -> choice index look-ups (-1 elsewhere).
    """

    op: np.ndarray
    in_features: np.ndarray
    out_features: np.ndarray
    k2f: np.ndarray
    conv_id: np.ndarray
    bn_id: np.ndarray
    relu_id: np.ndarray
    pool_id: np.ndarray
    fc_id: np.ndarray
    fc_relu_id: np.ndarray
    f_index: np.ndarray
    k_index: np.ndarray
    fc_index: np.ndarray

    @property
    def size(self) -> int:
        return int(self.op.shape[0])

    def index_tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(f_index, k_index, fc_index): the value -> choice look-ups walking kernels take."""
        return self.f_index, self.k_index, self.fc_index

    def config(self, i: int) -> tuple[str, int, int, int]:
        """Config i as (op name, in_features, out_features, k2f)."""
        return (
            OP_NAMES[int(self.op[i])],
            int(self.in_features[i]),
            int(self.out_features[i]),
            int(self.k2f[i]),
        )


def _index_lookup(values: tuple[int, ...]) -> np.ndarray:
    table = np.full(max(values) + 1, -1, dtype=np.int8)
    for i, v in enumerate(values):
        table[v] = i
    return table


@lru_cache(maxsize=1)
def universe() -> LayerUniverse:
    """Build (once) the universe of layer configs of the VGG space."""
    ids: dict[tuple[int, int, int, int], int] = {}

    def intern(op: int, fin: int, fout: int = 0, k2f: int = 0) -> int:
        return ids.setdefault((op, fin, fout, k2f), len(ids))

    nf, nk, nc = len(F_CHOICES), len(K_CHOICES), len(CHANNEL_CHOICES)
    conv_id = np.empty((NUM_CONV_RES, nc, nk, nf), dtype=np.int32)
    bn_id = np.empty((NUM_CONV_RES, nf), dtype=np.int32)
    relu_id = np.empty((NUM_CONV_RES, nf), dtype=np.int32)
    pool_id = np.empty((NUM_CONV_RES, nf), dtype=np.int32)
    for h in range(NUM_CONV_RES):
        area = side_px(h) ** 2
        for fi, f in enumerate(F_CHOICES):
            for ci, c in enumerate(CHANNEL_CHOICES):
                for ki, k in enumerate(K_CHOICES):
                    conv_id[h, ci, ki, fi] = intern(OP_CONV, area * c, 0, k * k * f)
            bn_id[h, fi] = intern(OP_BATCHNORM, area * f)
            relu_id[h, fi] = intern(OP_RELU, area * f)
            pool_id[h, fi] = intern(OP_POOL, area * f, (area // 4) * f)
    fc_in = [side_px(h) ** 2 * f for h in (4, 5) for f in F_CHOICES] + list(FC_CHOICES)
    fc_id = np.empty((NUM_FC_IN, len(FC_OUT_CHOICES)), dtype=np.int32)
    for ii, fin in enumerate(fc_in):
        for oi, fout in enumerate(FC_OUT_CHOICES):
            fc_id[ii, oi] = intern(OP_FC, fin, fout)
    fc_relu_id = np.asarray([intern(OP_RELU, fout) for fout in FC_OUT_CHOICES], dtype=np.int32)

    keys = np.asarray(list(ids), dtype=np.int64)
    return LayerUniverse(
        op=keys[:, 0].astype(np.int8),
        in_features=keys[:, 1].copy(),
        out_features=keys[:, 2].copy(),
        k2f=keys[:, 3].copy(),
        conv_id=conv_id,
        bn_id=bn_id,
        relu_id=relu_id,
        pool_id=pool_id,
        fc_id=fc_id,
        fc_relu_id=fc_relu_id,
        f_index=_index_lookup(F_CHOICES),
        k_index=_index_lookup(K_CHOICES),
        fc_index=_index_lookup(FC_CHOICES),
    )


@dataclass(frozen=True)
class LayerCatalog:
    """The distinct layer configs one batch needs.

    Attributes (m = number of configs in the catalog):
        config_id: `m` int32, ids into the universe (sorted).
        op, in_features, out_features, k2f: `m` arrays, the configs themselves.
    """

    config_id: np.ndarray
    op: np.ndarray
    in_features: np.ndarray
    out_features: np.ndarray
    k2f: np.ndarray

    def __len__(self) -> int:
        return int(self.config_id.shape[0])

    def op_names(self) -> list[str]:
        return [OP_NAMES[int(o)] for o in self.op]


def catalog(batch: np.ndarray, semantics: str = "native") -> LayerCatalog:
    """The layer catalog of a validated native `n x 22` int32 batch.

    One parallel pass marks the rows the batch's architectures have under
    `semantics` ('native' or 'lens-dac21'); the catalog is the configs those rows use.
    """
    return catalog_from_mask(used_configs(batch, semantics))


def used_configs(batch: np.ndarray, semantics: str) -> np.ndarray:
    """Boolean `U` mask of the configs a validated native batch uses."""
    from lens_fast.kernels.layers import used_rows
    from lens_fast.space.rows import configs_of_rows

    uni = universe()
    rows = used_rows(batch, semantics == "lens-dac21", uni.f_index, uni.k_index, uni.fc_index)
    return configs_of_rows(rows, semantics)


def catalog_from_mask(mask: np.ndarray) -> LayerCatalog:
    """Catalog of the universe configs selected by a boolean `U` mask."""
    uni = universe()
    ids = np.flatnonzero(mask).astype(np.int32)
    return LayerCatalog(
        config_id=ids,
        op=uni.op[ids],
        in_features=uni.in_features[ids],
        out_features=uni.out_features[ids],
        k2f=uni.k2f[ids],
    )
