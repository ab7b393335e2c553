"""Per-layer analysis: records and the a + b/tu lines of every option."""

from __future__ import annotations

import numpy as np
import pytest

from lens_fast.network import radio
from lens_fast.runtime import sources
from lens_fast.runtime.analyze import layer_records, option_lines
from lens_fast.runtime.thresholds import option_costs
from tests.conftest import shared_path


def test_analyze_records_and_lines_reproduce_costs():
    prof = sources.from_measured(
        shared_path("tx2", "tx2_measured_layers.csv"), "alexnet", "gpu", radio=radio("wifi")
    )
    recs = layer_records(prof)
    assert recs[-1]["cum_latency_share"] == pytest.approx(1.0)
    pool5 = next(r for r in recs if r["layer"] == "pool5")
    assert pool5["ratio_to_input"] == pytest.approx(36864 / 150528)
    assert (
        pool5["viable_split"] and not next(r for r in recs if r["layer"] == "pool2")["viable_split"]
    )
    assert next(r["layer"] for r in recs if r["viable_split"]) == "pool5"
    opts = prof.options()
    tu = np.array([0.7, 5.0, 60.0])
    for line in option_lines(prof):
        j = opts.index(line["option"])
        lat = option_costs(opts, "latency", tu, prof.radio)[j]
        en = option_costs(opts, "energy", tu, prof.radio)[j]
        np.testing.assert_allclose(
            line["latency_a_ms"] + line["latency_b_ms_mbps"] / tu, lat, rtol=1e-12
        )
        np.testing.assert_allclose(
            line["energy_a_mj"] + line["energy_b_mj_mbps"] / tu, en, rtol=1e-12
        )
