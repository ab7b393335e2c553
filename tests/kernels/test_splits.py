"""Algorithm 1 kernels against the naive reference (tests/naive.py)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lens_fast import PerformanceModel, space
from lens_fast.device import load_device
from lens_fast.device.model import DeviceModel
from lens_fast.errors import NetworkError
from lens_fast.network import RADIOS
from lens_fast.space import vgg
from tests import naive

TUS = np.array([0.25, 1.7, 9.0, 42.0, 350.0])


class ConstantDevice(DeviceModel):
    """Every layer costs the same latency and power: dyadic numbers give exact ties."""

    def __init__(self, latency_ms: float = 4.0, power_w: float = 2.0) -> None:
        super().__init__()
        self.name, self.content_hash = "constant", f"constant:{latency_ms}:{power_w}"
        self.latency_ms, self.power_w = latency_ms, power_w

    def _costs(self, op, x):
        n = x.shape[0]
        return np.full(n, self.latency_ms), np.full(n, self.power_w), np.ones(n, dtype=bool)


def assert_matches_naive(model: PerformanceModel, batch, tus, encoding="native", rtol=1e-9):
    """Every value and split of the kernel equals the naive reference (values to rtol)."""
    ev = model.evaluate(
        batch if encoding == "native" else space.native_to_paper(batch), tus, encoding
    )
    native = batch if encoding == "native" else space.paper_to_native(space.native_to_paper(batch))
    cost = naive.device_cost_fn(model.device)
    alpha, beta = model.radio.alpha_mw_per_mbps, model.radio.beta_mw
    keys = (
        "latency_ms",
        "energy_mj",
        "edge_latency_ms",
        "edge_energy_mj",
        "cloud_latency_ms",
        "cloud_energy_mj",
    )
    ref = {k: np.empty((len(native), len(tus))) for k in keys}
    ref_split = {
        k: np.empty((len(native), len(tus)), dtype=object)
        for k in ("latency_split", "energy_split")
    }
    for i, row in enumerate(native):
        for t, tu in enumerate(tus):
            r = naive.evaluate_one(
                row, float(tu), cost, model.semantics, alpha, beta, model.rtt_ms, model.wire_bytes
            )
            for k in keys:
                ref[k][i, t] = r[k]
            for k in ref_split:
                ref_split[k][i, t] = r[k]
    names = np.asarray(ev.split_names, dtype=object)
    for k in ref_split:
        got = names[getattr(ev, k)]
        bad = np.argwhere(got != ref_split[k])
        assert bad.size == 0, (
            f"{k}: first mismatch at {bad[0]}: {got[tuple(bad[0])]} vs naive {ref_split[k][tuple(bad[0])]}"
        )
    got = {
        "latency_ms": ev.latency_ms,
        "energy_mj": ev.energy_mj,
        "edge_latency_ms": ev.edge_latency_ms,
        "edge_energy_mj": ev.edge_energy_mj,
        "cloud_latency_ms": np.broadcast_to(ev.cloud_latency_ms, ref["cloud_latency_ms"].shape),
        "cloud_energy_mj": np.broadcast_to(ev.cloud_energy_mj, ref["cloud_energy_mj"].shape),
    }
    for k in keys:
        np.testing.assert_allclose(got[k], ref[k], rtol=rtol, atol=0, err_msg=k)
    return ev


@pytest.mark.parametrize("semantics", ["native", "lens-dac21"])
@pytest.mark.parametrize("encoding", ["native", "paper"])
def test_10000_random_candidates_match_naive(semantics, encoding):
    model = PerformanceModel("builtin", "lte", semantics=semantics)
    batch = space.sample(10_000, seed=101)
    ev = assert_matches_naive(model, batch, TUS, encoding)
    assert len(np.unique(ev.latency_split)) >= 4  # the batch exercises several cut points


def test_native_with_rtt_wire_dtype_and_custom_radio_match_naive():
    from lens_fast.network import radio

    model = PerformanceModel(
        "builtin:tx2-cpu",
        radio=radio("3g", alpha=500.0, beta=900.0),
        rtt_ms=12.5,
        wire_dtype="int8",
    )
    assert_matches_naive(model, space.sample(2000, seed=5), TUS)


def test_tx2_profile_tables_match_naive(tx2_table_path):
    device = load_device(tx2_table_path)
    for semantics in ("native", "lens-dac21"):
        model = PerformanceModel(device, "wifi", semantics=semantics)
        assert_matches_naive(model, space.sample(2000, seed=8), TUS)


def test_exact_tie_goes_to_fewer_bytes():
    """RTT chosen so that all-edge (0 bytes) ties exactly with the best transmitting cut."""
    tu = 8.0 / (1000.0 * 2.0**-10)  # ms per byte = 2^-10 exactly
    assert 8.0 / (tu * 1000.0) == 2.0**-10
    row = vgg.smallest()
    device = ConstantDevice(8.0, 2.0)  # dyadic costs: every sum below is exact
    rows = naive.native_rows(row, naive.device_cost_fn(device))
    opts = naive.options(rows, "native", 0.0)
    best_tx = min(a + size * 2.0**-10 for _, size, a, _ in opts[:-1])
    total = opts[-1][2]
    assert best_tx < total
    model = PerformanceModel(device, "wifi", rtt_ms=total - best_tx)
    ev = assert_matches_naive(model, row[None, :], np.array([tu]))
    assert ev.latency_ms[0, 0] == total
    assert ev.split_names[ev.latency_split[0, 0]] == "all-edge"
    # Without the tie-breaking rule the transmitting cut would be as good:
    model = PerformanceModel(device, "wifi", rtt_ms=total - best_tx - 2.0**-6)
    ev = model.evaluate(row[None, :], [tu])
    assert ev.split_names[ev.latency_split[0, 0]] != "all-edge"


def test_best_over_tu_breaks_ties_by_sorted_order():
    """Options arrive sorted by (bytes, code); an equal value later in the order never wins."""
    from lens_fast.kernels.splits import best_over_tu

    codes = np.array([7, 3, 0], dtype=np.int64)
    sizes = np.array([0.0, 64.0, 128.0])
    a = np.array([3.0, 2.0, 1.0])  # values at per_byte = 1/64: 3, 3, 3
    per_byte = np.array([1.0 / 64, 1.0 / 128, 1.0])
    value, code = np.empty(3), np.empty(3, dtype=np.int8)
    best_over_tu(3, codes, sizes, a, per_byte, np.empty((2, 3), dtype=np.int64), value, code)
    assert value.tolist() == [3.0, 2.0, 3.0]
    assert code.tolist() == [7, 0, 7]


def test_dac21_absent_pool_ties_with_its_block():
    """An absent pool repeats its block's cost and size: the block row wins the tie."""
    row = vgg.smallest().copy()
    row[15:20] = [1, 1, 1, 1, 0]  # pool5 absent: rows conv5 and pool5 are identical
    row[12] = 24  # 14 x 14 x 24 x 4 bytes fits under the input size
    model = PerformanceModel(ConstantDevice(4.0, 2.0), "wifi", semantics="lens-dac21")
    tus = np.array([0.5, 2.0, 8.0, 30.0])
    ev = assert_matches_naive(model, row[None, :], tus)
    names = {ev.split_names[c] for c in ev.latency_split[0]}
    assert "pool5" not in names


def test_extreme_throughputs():
    batch = np.stack([vgg.smallest(), vgg.largest()])
    for semantics in ("native", "lens-dac21"):
        model = PerformanceModel("builtin", "wifi", semantics=semantics)
        ev = assert_matches_naive(model, batch, np.array([1e-6, 1e6]))
        # Nearly no bandwidth: only the smallest transmission (all-edge) can win.
        assert {ev.split_names[c] for c in ev.latency_split[:, 0]} == {"all-edge"}
        # Unlimited bandwidth, no RTT: sending the input costs ~nothing.
        assert {ev.split_names[c] for c in ev.latency_split[:, 1]} == {"all-cloud"}


def test_four_vs_five_pools_and_absent_fc1_match_naive():
    base = space.sample(400, seed=9)
    variants = []
    for pools in ([1, 1, 1, 1, 1], [0, 1, 1, 1, 1], [1, 1, 1, 1, 0]):
        v = base.copy()
        v[:, 15:20] = pools
        variants.append(v)
    no_fc1 = base.copy()
    no_fc1[:, 20] = 0
    no_fc1[:, 21] = 512
    batch = np.vstack([*variants, no_fc1])
    for semantics in ("native", "lens-dac21"):
        assert_matches_naive(PerformanceModel("builtin", "lte", semantics=semantics), batch, TUS)


def test_smallest_and_largest_architectures():
    model = PerformanceModel("builtin", "wifi")
    ev = assert_matches_naive(model, np.stack([vgg.smallest(), vgg.largest()]), TUS)
    small, large = ev.edge_compute_latency_ms
    assert large > 100 * small  # the largest network costs orders of magnitude more


def test_cloud_costs_closed_form():
    model = PerformanceModel("builtin", "lte", rtt_ms=20.0)
    ev = model.evaluate(space.sample(3, seed=0), [10.0])
    alpha, beta = RADIOS["lte"]
    tx_ms = 150528 * 8 / (10.0 * 1000)
    np.testing.assert_allclose(ev.cloud_latency_ms, [20.0 + tx_ms], rtol=1e-15)
    np.testing.assert_allclose(ev.cloud_energy_mj, [tx_ms * (alpha * 10 + beta) / 1000], rtol=1e-15)


@pytest.mark.parametrize("bad", [0.0, -3.0, float("nan"), float("inf")])
def test_bad_throughput_is_refused(bad):
    with pytest.raises(NetworkError, match=r"tu must be > 0 Mbit/s"):
        PerformanceModel().evaluate(space.sample(2, seed=0), [1.0, bad])


def test_dac21_refuses_rtt():
    with pytest.raises(NetworkError, match=r"no RTT"):
        PerformanceModel(semantics="lens-dac21", rtt_ms=5.0)


def test_sweep_chunks_equal_one_evaluation():
    model = PerformanceModel("builtin", "wifi", rtt_ms=3.0)
    batch = space.sample(5000, seed=4)
    tus = np.geomspace(0.1, 100, 33)
    whole = model.evaluate(batch, tus)
    parts = {k: [] for k in ("latency_ms", "latency_split", "energy_mj", "energy_split")}
    starts = []
    for start, ev in model.sweep(batch, tus, chunk=777):
        starts.append(start)
        for k in parts:
            parts[k].append(getattr(ev, k).copy())
    assert starts == list(range(0, 5000, 777))
    for k, chunks in parts.items():
        np.testing.assert_array_equal(np.vstack(chunks), getattr(whole, k))


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    tech=st.sampled_from(["wifi", "lte", "3g"]),
    rtt=st.floats(0, 50),
    semantics=st.sampled_from(["native", "lens-dac21"]),
)
def test_properties_best_is_no_worse_and_monotone_in_tu(seed, tech, rtt, semantics):
    rtt = 0.0 if semantics == "lens-dac21" else rtt
    model = PerformanceModel("builtin", tech, rtt_ms=rtt, semantics=semantics)
    tus = np.geomspace(0.05, 500, 40)
    ev = model.evaluate(space.sample(30, seed=seed), tus)
    ulp = 1 + 1e-12  # the kernel fuses multiply-adds; these closed forms do not
    assert (ev.latency_ms <= ev.edge_latency_ms * ulp).all()
    assert (ev.latency_ms <= ev.cloud_latency_ms[None, :] * ulp).all()
    assert (ev.energy_mj <= ev.edge_energy_mj * ulp).all()
    assert (ev.energy_mj <= ev.cloud_energy_mj[None, :] * ulp).all()
    # Every option's cost falls as tu grows, so the best does too.
    assert (np.diff(ev.latency_ms, axis=1) <= 1e-12 * ev.latency_ms[:, 1:]).all()
    assert (np.diff(ev.energy_mj, axis=1) <= 1e-12 * ev.energy_mj[:, 1:]).all()


@settings(max_examples=300, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 200_000), min_size=1, max_size=12),
    a_values=st.lists(st.floats(0, 500, allow_nan=False), min_size=12, max_size=12),
    x=st.lists(st.floats(1e-7, 1e-1, allow_nan=False), min_size=1, max_size=9),
    collinear=st.booleans(),
)
def test_range_restricted_envelope_equals_brute_force(sizes, a_values, x, collinear):
    """best_over_tu (prune + envelope on the price range) = argmin over every option."""
    from lens_fast.kernels.splits import best_over_tu

    k = len(sizes)
    order = sorted(range(k), key=lambda i: (sizes[i], i))
    size = np.array([float(sizes[i]) for i in order])
    a = np.array(a_values[:k])
    if collinear and k >= 3:  # three lines through one point: a = c - size * x0
        x0 = x[0]
        a[:3] = 100.0 - size[:3] * x0
    codes = np.arange(k, dtype=np.int64)
    per_byte = np.array(x)
    value, code = np.empty(len(x)), np.empty(len(x), dtype=np.int8)
    best_over_tu(k, codes, size, a, per_byte, np.empty((2, k), dtype=np.int64), value, code)
    for t, xt in enumerate(per_byte):
        costs = a + size * xt
        best = min(range(k), key=lambda j: (costs[j], size[j], j))
        assert value[t] == pytest.approx(costs[best], rel=1e-12, abs=1e-12)
        # The chosen option is the argmin; another can only be picked at a last-bit tie.
        assert abs(costs[code[t]] - costs[best]) <= 1e-12 * max(1.0, abs(costs[best]))
