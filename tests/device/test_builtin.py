"""The builtin TX2 device: datasheet figures, calibration, errors on measured layers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lens_fast.device.builtin import (
    BOARDS,
    GPU_PEAK_GFLOPS,
    MEMORY_GBPS,
    TX2_CPU,
    TX2_GPU,
    BuiltinDevice,
)
from lens_fast.device.calibrate import calibrate, error_table
from lens_fast.device.reference_nets import alexnet, vgg16
from tests.conftest import shared_path

AUTHOR_POWER_W = {"gpu": {"vgg": 9.8, "alexnet": 8.5}, "cpu": {"vgg": 9.5, "alexnet": 8.5}}


def test_datasheet_figures():
    assert GPU_PEAK_GFLOPS == pytest.approx(665.6)  # 256 cores x 2 FLOP x 1.30 GHz
    assert MEMORY_GBPS == pytest.approx(59.7, abs=0.05)  # 128-bit LPDDR4-3732


def test_reference_networks_work():
    v = vgg16()
    assert sum(la.flops for la in v if la.kind == "conv") == pytest.approx(2 * 15.35e9, rel=0.01)
    assert [la.out_elems * 4 for la in alexnet() if la.name in ("Conv1", "Pool5", "FC8")] == [
        1161600,
        36864,
        4000,
    ]


@pytest.mark.parametrize("processor", ["gpu", "cpu"])
def test_baked_constants_equal_a_fresh_calibration(processor):
    measured = pd.read_csv(shared_path("tx2", "tx2_measured_layers.csv"))
    base = TX2_GPU if processor == "gpu" else TX2_CPU
    fresh = calibrate(base, measured, processor, AUTHOR_POWER_W[processor])
    for attr in ("t0_ms", "eff_compute", "eff_memory"):
        for cls, value in getattr(fresh, attr).items():
            assert getattr(base, attr)[cls] == pytest.approx(value, rel=2e-3, abs=1e-6), (attr, cls)
    assert base.p_idle_w == pytest.approx(fresh.p_idle_w, rel=1e-3, abs=1e-3)


def test_gpu_errors_on_measured_networks():
    measured = pd.read_csv(shared_path("tx2", "tx2_measured_layers.csv"))
    for net, bound in (("vgg", 0.05), ("alexnet", 0.10)):
        t = error_table(TX2_GPU, measured, net, "gpu")
        assert abs(t.builtin_ms.sum() / t.measured_ms.sum() - 1) < bound
        # Average board power equals the authors' figure by construction of p_idle, p_dyn.
        avg = (t.builtin_ms * t.builtin_power_w).sum() / t.builtin_ms.sum()
        assert avg == pytest.approx(AUTHOR_POWER_W["gpu"][net], rel=0.01)


def test_builtin_device_costs_are_positive_and_ordered():
    dev = BuiltinDevice()
    op = np.array([0, 0, 2, 4])
    lat, pw, exact = dev.costs(
        op,
        np.array([150528, 150528, 1000, 4096]),
        np.array([0, 0, 0, 4096]),
        np.array([216, 12544, 0, 0]),
    )
    assert (lat > 0).all() and (pw > 0).all() and not exact.any()
    assert lat[1] > 5 * lat[0]  # 58x the FLOPs, plus a 0.9 ms launch cost for both
    assert set(BOARDS) == {"tx2-gpu", "tx2-cpu"}
