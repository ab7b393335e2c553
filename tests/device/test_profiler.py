"""Layer shapes, the timing loop and the resumable run table (real torch on the CPU)."""

from __future__ import annotations

import collections
import time

import numpy as np
import pandas as pd
import pytest

from lens_fast.device.meters import ConstantMeter, MeterError, RaplMeter
from lens_fast.device.profiler import (
    RUN_COLUMNS,
    parse_ops,
    planned_shapes,
    run_profile,
    time_call,
)
from lens_fast.device.shapes import (
    MAX_RANDOM_CONV_MACS,
    MAX_RANDOM_FC_WEIGHTS,
    LayerShape,
    random_shapes,
    space_shapes,
)
from lens_fast.device.table import load_table
from lens_fast.errors import ProfileError
from lens_fast.space.catalog import universe
from tests.device.test_meters import rapl_tree


@pytest.fixture
def one_thread():
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_space_shapes_cover_the_universe_exactly():
    shapes = space_shapes()
    uni = universe()
    assert {s.key for s in shapes} == {uni.config(i) for i in range(uni.size)}
    counts = collections.Counter(s.op for s in shapes)
    # conv: 5 resolutions x 7 input channels x 3 kernels x 6 filters; bn/relu/pool: 5 x 6;
    # relu after the 7 FC outputs; fc: 18 inputs x 7 outputs
    assert counts == {"conv": 630, "batchnorm": 30, "relu": 37, "pool": 30, "fc": 126 - 14}
    # 224x224x24 and 112x112x96 inputs share in_features: one key, two shapes
    a = LayerShape("conv", 24, 224, 3, 64)
    b = LayerShape("conv", 96, 112, 3, 64)
    assert a.key == b.key == ("conv", 1_204_224, 0, 576) and a.name != b.name


def test_random_shapes_are_seeded_and_capped():
    a = random_shapes(per_op=40, seed=3)
    assert [s.name for s in a] == [s.name for s in random_shapes(per_op=40, seed=3)]
    assert {s.name for s in a} != {s.name for s in random_shapes(per_op=40, seed=4)}
    assert all(s.work <= MAX_RANDOM_CONV_MACS for s in a if s.op == "conv")
    assert all(s.work <= MAX_RANDOM_FC_WEIGHTS for s in a if s.op == "fc")
    ins = np.array([s.in_features for s in a if s.op == "relu"])
    assert ins.max() / ins.min() > 1000  # log-uniform over a wide range


@pytest.mark.parametrize(
    "shape, out_shape",
    [
        (LayerShape("conv", 3, 16, 5, 24), (1, 24, 16, 16)),
        (LayerShape("batchnorm", 8, 10), (1, 8, 10, 10)),
        (LayerShape("relu", 4096), (1, 4096)),
        (LayerShape("pool", 6, 14), (1, 6, 7, 7)),
        (LayerShape("fc", 300, filters=10), (1, 10)),
    ],
)
def test_shapes_build_runnable_layers_with_their_features(shape, out_shape):
    torch = pytest.importorskip("torch")
    module, x = shape.build()
    with torch.inference_mode():
        y = module(x)
    assert tuple(y.shape) == out_shape
    op, fin, fout, k2f = shape.key
    assert fin == x.numel()
    if op == "pool":
        assert fout == y.numel()
    if op == "fc":
        assert fout == y.numel()
    if op == "conv":
        assert k2f == shape.kernel**2 * shape.filters


def test_time_call_median_and_caps():
    t = time_call(lambda: time.sleep(0.003), warmup=1, repeats=7, max_seconds=5.0)
    assert t.repeats == 7
    assert 3.0 <= t.latency_ms < 3.0 + 10.0  # sleep never returns early
    assert np.isnan(t.power_w)
    slow = time_call(lambda: time.sleep(0.03), warmup=0, repeats=50, max_seconds=0.05)
    assert slow.repeats == 3  # min_repeats, then the time cap
    with_meter = time_call(lambda: None, meter=ConstantMeter(2.5), repeats=3)
    assert with_meter.power_w == 2.5


def test_parse_ops_and_plan_errors():
    assert parse_ops("fc, conv") == ("conv", "fc")
    assert parse_ops(None) == ("conv", "batchnorm", "relu", "pool", "fc")
    with pytest.raises(ProfileError, match="unknown op 'lrn' in --ops"):
        parse_ops("conv,lrn")
    with pytest.raises(ProfileError, match="--ops is empty"):
        parse_ops(" , ")
    with pytest.raises(ProfileError, match="--configs must be one of"):
        planned_shapes(("relu",), "all")
    both = planned_shapes(("pool",), "both", random_per_op=5)
    assert len(both) == len({s.name for _, s in both}) == 30 + 5


def test_run_appends_resumes_and_repairs_a_cut_row(tmp_path, one_thread):
    out = tmp_path / "t.csv"
    meter = ConstantMeter(5.0)
    s1 = run_profile(out, meter, ops=("pool",), configs="space", warmup=1, repeats=3, retries=0)
    assert (s1.planned, s1.skipped, s1.measured) == (30, 0, 30)
    lines = out.read_text().splitlines()
    assert lines[0] == ",".join(RUN_COLUMNS) and len(lines) == 31
    table = load_table(out)
    assert len(table) == 22 and int(table.frame["n_samples"].sum()) == 30  # shared keys averaged
    assert (table.frame["power_w"] == 5.0).all()
    # bigger pools take longer: rank correlation of latency with input size
    f = table.frame
    rho = np.corrcoef(
        np.argsort(np.argsort(f["in_features"])), np.argsort(np.argsort(f["latency_ms"]))
    )[0, 1]
    assert rho > 0.8
    s2 = run_profile(out, meter, ops=("pool",), configs="space", warmup=1, repeats=3, retries=0)
    assert (s2.skipped, s2.measured) == (30, 0)
    # a run killed while writing its last row: the cut row is dropped and measured again
    text = out.read_text()
    out.write_text(text[: len(text) - 12])
    s3 = run_profile(out, meter, ops=("pool",), configs="space", warmup=1, repeats=3, retries=0)
    assert (s3.skipped, s3.measured) == (29, 1)
    assert len(out.read_text().splitlines()) == 31
    assert len(load_table(out)) == 22


def test_budget_stops_and_a_rerun_continues(tmp_path, one_thread):
    out = tmp_path / "b.csv"
    meter = ConstantMeter(5.0)
    s1 = run_profile(
        out, meter, ops=("relu",), configs="space", budget_s=1e-6, warmup=1, repeats=3, retries=0
    )
    assert s1.stopped_by_budget and s1.measured == 1 and s1.remaining == 36
    s2 = run_profile(out, meter, ops=("relu",), configs="space", warmup=1, repeats=3, retries=0)
    assert (s2.skipped, s2.measured, s2.remaining) == (1, 36, 0)
    with pytest.raises(ProfileError, match="--budget must be > 0 seconds, got -1"):
        run_profile(out, meter, ops=("relu",), budget_s=-1.0)


def test_unreadable_meter_stops_the_run_without_writing_zeros(tmp_path, one_thread):
    root = rapl_tree(tmp_path / "sysfs")  # a counter that never moves
    out = tmp_path / "m.csv"
    with pytest.raises(MeterError, match="expected a finite power > 0"):
        run_profile(out, RaplMeter.discover(root), ops=("relu",), warmup=1, repeats=3)
    assert out.read_text().splitlines() == [",".join(RUN_COLUMNS)]  # header only


def test_a_disturbed_measurement_is_retried_after_a_pause():
    """A call that sleeps gets no CPU time: share ~0, so it is measured again."""
    from lens_fast.device.profiler import MIN_CPU_SHARE, time_undisturbed

    t0 = time.perf_counter()
    t = time_undisturbed(lambda: time.sleep(0.002), None, None, 0, 3, 1.0, 1, 1)
    assert time.perf_counter() - t0 >= 0.5  # one pause of 0.5 s, then the second attempt
    assert t.cpu_share < 0.5 < MIN_CPU_SHARE
    busy = time_call(lambda: sum(range(20000)), repeats=5, cpu_threads=1)
    assert 0.0 < busy.cpu_share <= 1.2


def test_cpu_clock_counts_compute_not_waiting():
    """Sleeping costs wall time but no CPU time; a busy loop costs both."""
    asleep = time_call(lambda: time.sleep(0.005), warmup=0, repeats=5, clock="cpu")
    assert asleep.wall_ms >= 5.0 and asleep.latency_ms == asleep.cpu_ms < 1.0
    busy = time_call(lambda: sum(range(200_000)), warmup=1, repeats=5, clock="cpu")
    assert busy.cpu_ms > 0.5 and busy.cpu_ms <= busy.wall_ms * 1.05
    with pytest.raises(ProfileError, match="clock must be one of wall, cpu"):
        time_call(lambda: None, clock="gpu")


def test_cpu_clock_needs_one_cpu_thread_and_a_table_keeps_its_clock(tmp_path, one_thread):
    torch = pytest.importorskip("torch")
    out = tmp_path / "c.csv"
    meter = ConstantMeter(5.0)
    s = run_profile(out, meter, ops=("relu",), configs="random", random_per_op=3, warmup=1,
                    repeats=3, clock="cpu")  # fmt: skip
    assert s.measured == 3
    raw = pd.read_csv(out)
    np.testing.assert_array_equal(raw["latency_ms"], raw["cpu_ms"])
    with pytest.raises(ProfileError, match="timed with the cpu clock, this run uses --clock wall"):
        run_profile(out, meter, ops=("relu",), configs="random", random_per_op=3)
    torch.set_num_threads(2)
    with pytest.raises(ProfileError, match="needs --device cpu and --threads 1"):
        run_profile(tmp_path / "d.csv", meter, ops=("relu",), clock="cpu")
