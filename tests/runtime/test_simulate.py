"""Trace replay against the naive reference, trace validation."""

from __future__ import annotations

import numpy as np
import pytest

from lens_fast import PerformanceModel, space
from lens_fast.errors import NetworkError
from lens_fast.network import radio
from lens_fast.runtime import sources
from lens_fast.runtime.simulate import read_trace, simulate
from lens_fast.runtime.thresholds import envelope
from tests import naive
from tests.conftest import shared_path


def _naive_opts(opts):
    return [
        (opts.names[j], opts.size_bytes[j], opts.base_latency_ms[j], opts.base_energy_mj[j])
        for j in range(len(opts))
    ]


def test_lte_traces_match_naive_for_measured_alexnet_cpu():
    trace_path = shared_path("network", "lte_upload_traces.csv")
    prof = sources.from_measured(
        shared_path("tx2", "tx2_measured_layers.csv"), "alexnet", "cpu", radio=radio("lte")
    )
    opts = prof.options()
    alpha, beta = prof.radio.alpha_mw_per_mbps, prof.radio.beta_mw
    for column in ("trace_a_mbps", "trace_b_mbps"):
        tu, _ = read_trace(trace_path, column)
        assert tu.shape == (40,)
        for metric in ("latency", "energy"):
            env = envelope(opts, metric, prof.radio)
            for tracker in ("current", "previous"):
                sim = simulate(opts, env, tu, prof.radio, tracker)
                ref = naive.simulate(_naive_opts(opts), tu.tolist(), metric, alpha, beta, tracker)
                assert sim.dynamic_total == pytest.approx(ref["dynamic"], rel=1e-12)
                for name, total in ref["fixed"].items():
                    assert sim.fixed_totals[name] == pytest.approx(total, rel=1e-12)
                # the oracle is never worse than any fixed option
                if tracker == "current":
                    assert sim.dynamic_total <= min(sim.fixed_totals.values()) * (1 + 1e-12)
                gain = sim.gain_pct["all-edge"]
                edge = sim.fixed_totals["all-edge"]
                assert gain == pytest.approx(100 * (edge - sim.dynamic_total) / edge)


def test_random_traces_on_space_rows_match_naive():
    model = PerformanceModel("builtin", "wifi", rtt_ms=2.0)
    rng = np.random.default_rng(5)
    for row in space.sample(30, seed=9):
        opts = sources.from_architecture(model, row).options()
        tu = rng.lognormal(2.0, 1.5, 60)
        for metric in ("latency", "energy"):
            env = envelope(opts, metric, model.radio)
            sim = simulate(opts, env, tu, model.radio, "previous")
            ref = naive.simulate(_naive_opts(opts), tu.tolist(), metric, 283.17, 132.86, "previous")
            assert sim.dynamic_total == pytest.approx(ref["dynamic"], rel=1e-12)


def test_previous_tracker_pays_for_a_late_switch():
    """Two samples either side of the threshold: the tracker that uses the last
    measurement keeps the first sample's option one sample too long."""
    model = PerformanceModel("builtin", "wifi")
    opts = sources.from_architecture(model, space.sample(1, seed=1)[0]).options()
    env = envelope(opts, "latency", model.radio)
    b = env.breakpoints[0]
    tu = np.array([b / 2, b * 2])
    cur = simulate(opts, env, tu, model.radio, "current")
    prev = simulate(opts, env, tu, model.radio, "previous")
    lo, hi = env.names[0], env.names[1]
    assert [cur.names[j] for j in cur.chosen] == [lo, hi]
    assert [prev.names[j] for j in prev.chosen] == [lo, lo]
    want = prev.costs[prev.names.index(lo)].sum()
    assert prev.dynamic_total == want > cur.dynamic_total
    assert cur.switches == 1 and prev.switches == 0


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        ("sample,mbps\n", None, "got an empty trace (column mbps has no samples)"),
        ("", None, "got an empty trace"),
        ("sample,mbps\n1,4.0\n2,-3.0\n", None, "got -3.0 (row 2 of t.csv, column mbps)"),
        ("sample,mbps\n1,4.0\n2,0\n", None, "got 0.0 (row 2 of t.csv"),
        ("sample,mbps\n1,4.0\n2,\n", None, "got a missing value (row 2 of t.csv"),
        ("sample,rate\n1,4.0\n", None, "expected --column NAME"),
        ("sample,mbps\n1,4.0\n", "x", "expected a column 'x'"),
    ],
)
def test_bad_traces(tmp_path, text, column, message):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(NetworkError) as info:
        read_trace(path, column)
    assert message in str(info.value) and "\n" not in str(info.value)
