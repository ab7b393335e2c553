"""Exact envelopes: the kernel against the core's evaluation and the naive reference."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from lens_fast import PerformanceModel, space
from lens_fast.network import Radio, radio
from lens_fast.runtime import sources
from lens_fast.runtime.sources import Options
from lens_fast.runtime.thresholds import (
    batch_envelopes,
    envelope,
    option_costs,
    price,
)
from tests import naive

POINTS = 200  # throughputs per candidate, spread inside its intervals


def interior_points(tu_min: np.ndarray, total: int = POINTS) -> tuple[np.ndarray, np.ndarray]:
    """`total` throughputs inside the intervals (none on a breakpoint), and their interval.

    Each interval gets an equal share, log-spaced strictly inside it; the first runs
    from 1/1000 of its end, the last to 1000 times its start.
    """
    m = tu_min.shape[0]
    ends = np.append(tu_min[1:], np.inf)
    share = np.full(m, total // m)
    share[: total - share.sum()] += 1
    pts, which = [], []
    for q in range(m):
        lo, hi = tu_min[q], ends[q]
        if m == 1:
            lo, hi = 1e-3, 1e4
        elif q == 0:
            lo = hi / 1000.0
        elif q == m - 1:
            hi = lo * 1000.0
        frac = (np.arange(share[q]) + 0.5) / share[q]
        pts.append(lo * (hi / lo) ** frac)
        which.append(np.full(share[q], q))
    return np.concatenate(pts), np.concatenate(which)


def naive_options(row, model: PerformanceModel, cost=None):
    cost = cost or naive.device_cost_fn(model.device)
    if model.semantics == "native":
        rows = naive.native_rows(row, cost, model.wire_bytes)
    else:
        rows = naive.dac21_rows(row, cost)
    return naive.options(rows, model.semantics, model.rtt_ms)


@pytest.mark.parametrize(
    ("semantics", "tech", "rtt_ms", "seed"),
    [("native", "lte", 0.0, 11), ("native", "wifi", 15.0, 12), ("lens-dac21", "lte", 0.0, 13)],
)
def test_1000_candidates_every_point_is_the_cores_argmin_and_breakpoints_equalise(
    semantics, tech, rtt_ms, seed
):
    """Acceptance: at 200 throughputs inside the intervals of each of 1,000 random
    candidates the reported option is the core's best split (every point), and at
    each breakpoint the two neighbours cost the same to 1e-9 (naive option costs)."""
    model = PerformanceModel("builtin", tech, semantics=semantics, rtt_ms=rtt_ms)
    alpha, beta = model.radio.alpha_mw_per_mbps, model.radio.beta_mw
    batch = space.sample(1000, seed=seed)
    envs = batch_envelopes(model, batch)
    names = np.array(model.split_names, dtype=object)
    checked = {"latency": 0, "energy": 0}
    breakpoints = 0
    worst = 0.0
    cost = naive.device_cost_fn(model.device)  # one memo of scalar device calls
    group = 50  # candidates scored together at the union of their throughputs
    for g in range(0, batch.shape[0], group):
        rows = range(g, min(g + group, batch.shape[0]))
        per_metric = {}
        for metric in ("latency", "energy"):
            per_metric[metric] = [interior_points(envs.candidate(i, metric).tu_min) for i in rows]
        union = np.concatenate([p for m in per_metric.values() for p, _ in m])
        ev = model.evaluate(batch[g : g + group], union)
        ref_opts = {i: {o[0]: o for o in naive_options(batch[i], model, cost)} for i in rows}
        for metric, split in (("latency", ev.latency_split), ("energy", ev.energy_split)):
            offset = 0 if metric == "latency" else len(rows) * POINTS
            for k, i in enumerate(rows):
                env = envs.candidate(i, metric)
                _, which = per_metric[metric][k]
                cols = offset + k * POINTS + np.arange(POINTS)
                got = names[split[k, cols]]
                want = np.array(env.names, dtype=object)[which]
                bad = np.flatnonzero(got != want)
                assert bad.size == 0, (
                    f"row {i} {metric}: at tu={union[cols[bad[0]]]} the core picks "
                    f"{got[bad[0]]}, the envelope says {want[bad[0]]} ({env.records()})"
                )
                checked[metric] += POINTS
                opts = ref_opts[i]
                for a, b, tu in zip(env.names[:-1], env.names[1:], env.breakpoints, strict=True):
                    ca = naive.option_cost(opts[a], metric, float(tu), alpha, beta)
                    cb = naive.option_cost(opts[b], metric, float(tu), alpha, beta)
                    worst = max(worst, abs(ca - cb) / max(abs(ca), abs(cb)))
                    breakpoints += 1
    assert checked == {"latency": 200_000, "energy": 200_000}
    assert breakpoints >= 1000  # every candidate switches at least once
    assert worst <= 1e-9, worst
    # the batch exercises cuts inside the network, not only cloud/edge
    inner = set(np.unique(envs.latency.code).tolist()) - {0, len(model.split_names) - 1}
    assert len(inner) >= 3


@pytest.mark.parametrize("semantics", ["native", "lens-dac21"])
def test_kernel_equals_naive_brute_force_envelope(semantics):
    """Same options in the same order, breakpoints to 1e-9, on 300 candidates."""
    model = PerformanceModel("builtin:tx2-cpu", "3g", semantics=semantics)
    alpha, beta = model.radio.alpha_mw_per_mbps, model.radio.beta_mw
    batch = space.sample(300, seed=21)
    envs = batch_envelopes(model, batch)
    cost = naive.device_cost_fn(model.device)
    for i, row in enumerate(batch):
        opts = naive_options(row, model, cost)
        for metric in ("latency", "energy"):
            ref = naive.envelope(opts, metric, alpha, beta)
            env = envs.candidate(i, metric)
            assert list(env.names) == [r[0] for r in ref], (i, metric)
            np.testing.assert_allclose(env.tu_min[1:], [r[1] for r in ref[1:]], rtol=1e-9)


def test_batch_kernel_equals_single_model_path():
    """`from_architecture(...).options()` + `envelope` = the batch kernel, bit for bit."""
    model = PerformanceModel("builtin", "wifi", rtt_ms=7.5, wire_dtype="float16")
    batch = space.sample(200, seed=3)
    envs = batch_envelopes(model, batch)
    for i in range(batch.shape[0]):
        opts = sources.from_architecture(model, batch[i]).options()
        for metric in ("latency", "energy"):
            single = envelope(opts, metric, model.radio)
            batched = envs.candidate(i, metric)
            assert single.names == batched.names
            np.testing.assert_array_equal(single.tu_min, batched.tu_min)


def test_single_model_options_match_the_core_values():
    """Option costs of a space row reproduce `evaluate` (best value) exactly."""
    model = PerformanceModel("builtin", "lte", rtt_ms=3.0)
    batch = space.sample(20, seed=8)
    tus = np.array([0.3, 2.0, 11.0, 95.0, 2000.0])
    ev = model.evaluate(batch, tus)
    for i in range(batch.shape[0]):
        opts = sources.from_architecture(model, batch[i]).options()
        for metric, value in (("latency", ev.latency_ms), ("energy", ev.energy_mj)):
            costs = option_costs(opts, metric, tus, model.radio)
            np.testing.assert_allclose(costs.min(axis=0), value[i], rtol=1e-12)


def test_closed_form_two_options():
    """All-edge (0 bytes, A = 40 ms) against all-cloud (150,528 bytes, A = 0): latency
    threshold 8 * 150528 / (1000 * 40) = 30.1056 Mbit/s. Energy (A = 400 mJ) solves
    400 = 150528 * 8e-6 * (alpha + beta / tu) -> tu = beta / (400 / (150528 * 8e-6) - alpha)."""
    opts = Options(
        code=np.array([23, 0]),
        names=("all-edge", "all-cloud"),
        size_bytes=np.array([0.0, 150528.0]),
        base_latency_ms=np.array([40.0, 0.0]),
        base_energy_mj=np.array([400.0, 0.0]),
    )
    rad = radio("wifi")
    lat = envelope(opts, "latency", rad)
    assert lat.names == ("all-edge", "all-cloud")
    assert lat.breakpoints[0] == pytest.approx(8 * 150528 / (1000 * 40), rel=1e-15)
    en = envelope(opts, "energy", rad)
    want = 132.86 / (400 / (150528 * 8e-6) - 283.17)
    assert en.breakpoints[0] == pytest.approx(want, rel=1e-13)
    lte = envelope(opts, "energy", radio("lte"))  # 150528*8e-6*438.39 = 527.9 mJ > 400
    assert lte.names == ("all-edge",) and lte.breakpoints.size == 0
    assert lat.records()[-1] == {
        "option": "all-cloud",
        "tu_min": lat.breakpoints[0],
        "tu_max": None,
    }


def test_ties_go_to_fewer_bytes():
    """Dyadic numbers: an exact three-way tie at one tu, equal costs, equal bytes."""
    # a + b/tu with latency b = 0.008 * s. Options cross pairwise at tu = 0.008*ds/da:
    # edge (0 B, 48) and cut (1000 B, 40) at 1; cut and cloud (2000 B, 32) at 1 as well.
    opts = Options(
        code=np.array([23, 8, 0]),
        names=("all-edge", "pool2", "all-cloud"),
        size_bytes=np.array([0.0, 1000.0, 2000.0]),
        base_latency_ms=np.array([48.0, 40.0, 32.0]),
        base_energy_mj=np.array([1.0, 1.0, 1.0]),
    )
    rad = Radio("custom", 0.0, 1000.0)
    lat = envelope(opts, "latency", rad)
    # the cut only touches the envelope at tu = 1, where the tie goes to all-edge
    assert lat.names == ("all-edge", "all-cloud")
    assert lat.breakpoints.tolist() == [1.0]
    assert lat.winner([1.0, 1.0000001])[0] == "all-edge"
    # equal A, more bytes: never wins (it costs more at every finite tu)
    en = envelope(opts, "energy", rad)
    assert en.names == ("all-edge",)
    # identical options (same bytes, same A): the earlier code
    twin = Options(
        code=np.array([5, 9]),
        names=("conv2_1", "conv3_1"),
        size_bytes=np.array([64.0, 64.0]),
        base_latency_ms=np.array([3.0, 3.0]),
        base_energy_mj=np.array([2.0, 2.0]),
    )
    assert envelope(twin, "latency", rad).names == ("conv2_1",)


def test_zero_beta_radio_has_one_energy_interval():
    """beta = 0: the energy price 8*alpha/1e6 per byte does not depend on tu."""
    opts = Options(
        code=np.array([23, 4, 0]),
        names=("all-edge", "pool1", "all-cloud"),
        size_bytes=np.array([0.0, 10_000.0, 150528.0]),
        base_latency_ms=np.array([50.0, 20.0, 0.0]),
        base_energy_mj=np.array([50.0, 20.0, 0.0]),
    )
    rad = Radio("custom", 1000.0, 0.0)  # 8e-3 mJ per byte: pool1 80+20, cloud 1204
    en = envelope(opts, "energy", rad)
    assert en.names == ("all-edge",) and en.tu_min.tolist() == [0.0]


@st.composite
def option_sets(draw):
    """2..12 options sorted by (bytes, code): small integers give exact ties often."""
    k = draw(st.integers(2, 12))
    sizes = sorted(draw(st.lists(st.integers(0, 40), min_size=k, max_size=k)))
    size = np.array(sizes, dtype=float) * draw(st.sampled_from([1.0, 512.0, 37_632.0]))
    lat = np.array(draw(st.lists(st.integers(0, 60), min_size=k, max_size=k)), dtype=float)
    en = np.array(draw(st.lists(st.integers(0, 600), min_size=k, max_size=k)), dtype=float)
    scale = draw(st.sampled_from([1.0, 0.25, 13.7]))
    names = tuple(f"o{j}" for j in range(k))
    opts = Options(np.arange(k), names, size, lat * scale, en * scale)
    rad = Radio(
        "custom",
        draw(st.sampled_from([0.0, 283.17, 438.39])),
        draw(st.sampled_from([1.0, 132.86, 1288.04, 5000.0])),
    )
    return opts, rad


def _naive_tuples(opts: Options):
    return [
        (opts.names[j], opts.size_bytes[j], opts.base_latency_ms[j], opts.base_energy_mj[j])
        for j in range(len(opts))
    ]


@settings(max_examples=300, deadline=None)
@given(option_sets(), st.sampled_from(["latency", "energy"]))
def test_property_intervals_tile_and_breakpoints_equalise(case, metric):
    opts, rad = case
    env = envelope(opts, metric, rad)
    # tiling: starts at 0, strictly increasing, last open to +inf, no repeated option
    assert env.tu_min[0] == 0.0 and np.isinf(env.tu_max[-1])
    assert (np.diff(env.tu_min) > 0).all()
    np.testing.assert_array_equal(env.tu_max[:-1], env.tu_min[1:])
    assert all(a != b for a, b in zip(env.names[:-1], env.names[1:], strict=True))
    # options on the envelope send strictly more bytes as tu grows
    size = {n: opts.size_bytes[opts.index(n)] for n in env.names}
    assert all(size[a] < size[b] for a, b in zip(env.names[:-1], env.names[1:], strict=True))
    # each breakpoint equalises its two neighbours
    for a, b, tu in zip(env.names[:-1], env.names[1:], env.breakpoints, strict=True):
        c = option_costs(opts, metric, np.array([tu]), rad)[:, 0]
        ca, cb = c[opts.index(a)], c[opts.index(b)]
        assert math.isclose(ca, cb, rel_tol=1e-9, abs_tol=1e-12), (a, b, tu, ca, cb)


@settings(max_examples=300, deadline=None)
@given(option_sets(), st.sampled_from(["latency", "energy"]), st.floats(0.02, 0.98))
def test_property_envelope_option_is_the_argmin_inside_each_interval(case, metric, frac):
    opts, rad = case
    env = envelope(opts, metric, rad)
    for q, name in enumerate(env.names):
        lo, hi = env.tu_min[q], env.tu_max[q]
        lo_p = lo if lo > 0 else (hi / 1e3 if np.isfinite(hi) else 1e-2)
        hi_p = hi if np.isfinite(hi) else max(lo_p, 1.0) * 1e3
        tu = lo_p * (hi_p / lo_p) ** frac
        assume(lo < tu < hi)
        costs = option_costs(opts, metric, np.array([tu]), rad)[:, 0]
        best = costs.min()
        # the reported option is optimal; any other equally cheap one sends more bytes
        # or comes later (the core's tie rule)
        j = opts.index(name)
        assert math.isclose(costs[j], best, rel_tol=1e-12, abs_tol=1e-12)
        for k in np.flatnonzero(costs < costs[j] - 1e-9 * abs(best)):
            raise AssertionError(f"{opts.names[k]} beats {name} at tu={tu}")


@settings(max_examples=200, deadline=None)
@given(option_sets(), st.sampled_from(["latency", "energy"]))
def test_property_kernel_equals_naive_brute_force(case, metric):
    opts, rad = case
    env = envelope(opts, metric, rad)
    ref = naive.envelope(_naive_tuples(opts), metric, rad.alpha_mw_per_mbps, rad.beta_mw)
    assert list(env.names) == [r[0] for r in ref]
    np.testing.assert_allclose(env.tu_min[1:], [r[1] for r in ref[1:]], rtol=1e-9)


def test_price_is_the_cores():
    rad = radio("lte")
    tu = np.array([0.5, 3.0, 40.0])
    _, ms, mj = PerformanceModel("builtin", "lte").prices(tu)
    np.testing.assert_array_equal(price("latency", tu, rad), ms)
    np.testing.assert_array_equal(price("energy", tu, rad), mj)
