"""The layer universe and per-batch catalogs against configs listed by the naive walk."""

from __future__ import annotations

import numpy as np
import pytest

from lens_fast import space
from lens_fast.space.catalog import OP_NAMES, catalog, universe
from tests import naive


def _recording_cost():
    seen: set[tuple[str, int, int, int]] = set()

    def cost(op, fin, fout, k2f):
        seen.add((op, fin, fout, k2f))
        return 1.0, 1.0

    return seen, cost


def test_universe_is_deduplicated_and_well_formed():
    uni = universe()
    keys = set(
        zip(
            uni.op.tolist(),
            uni.in_features.tolist(),
            uni.out_features.tolist(),
            uni.k2f.tolist(),
            strict=True,
        )
    )
    assert len(keys) == uni.size
    conv = uni.op == OP_NAMES.index("conv")
    assert set(uni.k2f[conv]) == {k * k * f for k in (3, 5, 7) for f in (24, 36, 64, 96, 128, 256)}
    assert set(uni.in_features[conv]) >= {224 * 224 * 3, 14 * 14 * 256}


@pytest.mark.parametrize("semantics", ["native", "lens-dac21"])
def test_catalog_equals_configs_of_naive_rows(semantics):
    batch = space.sample(3000, seed=21)
    seen, cost = _recording_cost()
    for row in batch:
        if semantics == "native":
            naive.native_rows(row, cost)
        else:
            naive.dac21_rows(row, cost)
    cat = catalog(batch, semantics)
    got = {
        (OP_NAMES[o], int(i), int(f), int(k))
        for o, i, f, k in zip(cat.op, cat.in_features, cat.out_features, cat.k2f, strict=True)
    }
    assert got == seen
    assert len(cat) == len(np.unique(cat.config_id))


def test_catalog_of_empty_batch_is_empty():
    assert len(catalog(np.zeros((0, 22), dtype=np.int32))) == 0
