"""Power meters read through real sysfs-like folders (the code path on a real board)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from lens_fast.device import meters
from lens_fast.device.meters import (
    ConstantMeter,
    Ina3221Meter,
    MeterError,
    RaplMeter,
    choose_meter,
    discover,
)
from lens_fast.device.profiler import time_call


def _files(root: Path, entries: dict[str, object]) -> Path:
    for rel, value in entries.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"{value}\n")
    return root


def rapl_tree(root: Path, energy_uj=(1_000_000, 5_000_000), max_uj=262_143_328_850) -> Path:
    base = "sys/class/powercap"
    entries: dict[str, object] = {}
    for i, e in enumerate(energy_uj):
        entries[f"{base}/intel-rapl:{i}/name"] = f"package-{i}"
        entries[f"{base}/intel-rapl:{i}/energy_uj"] = e
        entries[f"{base}/intel-rapl:{i}/max_energy_range_uj"] = max_uj
    # a sub-zone (core) inside package 0: must not be counted twice
    entries[f"{base}/intel-rapl:0:0/name"] = "core"
    entries[f"{base}/intel-rapl:0:0/energy_uj"] = 7
    entries[f"{base}/intel-rapl:0:0/max_energy_range_uj"] = max_uj
    return _files(root, entries)


def set_energy(root: Path, zone: int, uj: int) -> None:
    """Replace the counter atomically, as the kernel's file never reads half-written."""
    path = root / f"sys/class/powercap/intel-rapl:{zone}/energy_uj"
    tmp = path.with_name(f".energy_uj.{threading.get_ident()}")
    tmp.write_text(f"{uj}\n")
    os.replace(tmp, path)


def test_rapl_sums_packages_over_the_window(tmp_path):
    root = rapl_tree(tmp_path)
    meter = RaplMeter.discover(root)
    assert [z.name for z in meter.zones] == ["intel-rapl:0", "intel-rapl:1"]
    t_a = time.perf_counter()
    meter.start()
    set_energy(tmp_path, 0, 3_000_000)  # +2 J
    set_energy(tmp_path, 1, 6_000_000)  # +1 J
    time.sleep(0.1)
    watts = meter.stop()
    t_b = time.perf_counter()
    # 3 J over a window between 0.1 s and the time around start/stop
    assert 3.0 / (t_b - t_a) <= watts <= 3.0 / 0.1


def test_rapl_counter_wraparound(tmp_path):
    max_uj = 10_000_000
    root = rapl_tree(tmp_path, energy_uj=(9_500_000,), max_uj=max_uj)
    meter = RaplMeter.discover(root)
    t_a = time.perf_counter()
    meter.start()
    set_energy(tmp_path, 0, 1_500_000)  # wrapped: 0.5 J + 1.5 J = 2 J
    time.sleep(0.05)
    watts = meter.stop()
    assert 2.0 / (time.perf_counter() - t_a) <= watts <= 2.0 / 0.05


def test_rapl_counter_that_does_not_move_is_an_error_not_zero(tmp_path):
    meter = RaplMeter.discover(rapl_tree(tmp_path))
    meter.start()
    with pytest.raises(MeterError, match=r"read 0(\.0)? W .*expected a finite power > 0"):
        meter.stop()


def test_rapl_unreadable_counter_says_why(tmp_path):
    root = rapl_tree(tmp_path, energy_uj=(5,))
    energy = root / "sys/class/powercap/intel-rapl:0/energy_uj"
    energy.unlink()
    energy.mkdir()  # a folder where the counter should be: reading it fails
    with pytest.raises(MeterError, match=r"cannot read .*energy_uj"):
        RaplMeter.discover(root)


def test_rapl_absent(tmp_path):
    with pytest.raises(MeterError, match="no powercap RAPL"):
        RaplMeter.discover(tmp_path)


def hwmon_tree(root: Path, rails: dict[str, tuple[int, int]]) -> Path:
    """Mainline ina3221 hwmon layout: in<c>_label, in<c>_input (mV), curr<c>_input (mA)."""
    base = "sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3"
    entries: dict[str, object] = {}
    for ch, (label, (mv, ma)) in enumerate(rails.items(), start=1):
        entries[f"{base}/in{ch}_label"] = label
        entries[f"{base}/in{ch}_input"] = mv
        entries[f"{base}/curr{ch}_input"] = ma
    return _files(root, entries)


def test_ina3221_hwmon_uses_the_board_input_rail(tmp_path):
    rails = {"VDD_IN": (5000, 1500), "VDD_CPU_GPU_CV": (5000, 400), "VDD_SOC": (5000, 300)}
    meter = Ina3221Meter.discover(hwmon_tree(tmp_path, rails))
    assert meter.describe()["rails"] == ["VDD_IN"]
    assert meter.power_w() == pytest.approx(7.5)  # 5 V x 1.5 A


def test_ina3221_without_board_rail_sums_all_rails(tmp_path):
    rails = {"GPU": (5000, 200), "CPU": (5000, 300), "SOC": (5000, 500)}  # AGX Xavier style
    meter = Ina3221Meter.discover(hwmon_tree(tmp_path, rails))
    assert meter.power_w() == pytest.approx(5.0)
    assert "sum of all" in meter.describe()["what"]


def test_ina3221_legacy_iio_layout_of_the_tx2(tmp_path):
    base = "sys/bus/i2c/drivers/ina3221x"
    root = _files(
        tmp_path,
        {
            f"{base}/0-0040/iio:device0/rail_name_0": "VDD_SYS_GPU",
            f"{base}/0-0040/iio:device0/in_power0_input": 1200,
            f"{base}/0-0041/iio:device1/rail_name_0": "VDD_IN",
            f"{base}/0-0041/iio:device1/in_power0_input": 6400,  # mW
            f"{base}/0-0041/iio:device1/rail_name_1": "VDD_SYS_CPU",
            f"{base}/0-0041/iio:device1/in_voltage1_input": 19000,
            f"{base}/0-0041/iio:device1/in_current1_input": 100,
        },
    )
    meter = Ina3221Meter.discover(root)
    assert meter.power_w() == pytest.approx(6.4)


def test_sampled_meter_over_a_timed_window(tmp_path):
    meter = Ina3221Meter.discover(hwmon_tree(tmp_path, {"VDD_IN": (5000, 1500)}))
    timing = time_call(lambda: time.sleep(0.002), meter=meter, warmup=1, repeats=3)
    assert timing.power_w == pytest.approx(7.5)
    assert timing.window_s >= meter.min_window_s  # repeats extended to cover the window
    assert timing.repeats >= 3


def test_sampled_meter_reading_zero_is_an_error(tmp_path):
    root = hwmon_tree(tmp_path, {"VDD_IN": (5000, 1500)})
    meter = Ina3221Meter.discover(root)
    meter.start()
    (root / "sys/bus/i2c/drivers/ina3221/1-0040/hwmon/hwmon3/curr1_input").write_text("0\n")
    time.sleep(0.03)
    with pytest.raises(MeterError, match="ina3221 read 0"):
        meter.stop()


def test_rapl_meter_tracks_a_moving_counter_inside_time_call(tmp_path):
    """A thread plays the kernel: energy_uj grows at 25 W; the meter must report ~25 W."""
    root = rapl_tree(tmp_path, energy_uj=(0,))
    meter = RaplMeter.discover(root)
    stop = threading.Event()
    t0 = time.perf_counter()

    def kernel():
        while not stop.is_set():
            set_energy(root, 0, int((time.perf_counter() - t0) * 25e6))
            time.sleep(0.0005)

    th = threading.Thread(target=kernel, daemon=True)
    th.start()
    try:
        timing = time_call(lambda: time.sleep(0.001), meter=meter, warmup=1, repeats=5)
    finally:
        stop.set()
        th.join()
    assert timing.window_s >= RaplMeter.min_window_s
    assert 20.0 < timing.power_w < 30.0


def test_constant_meter_and_its_bounds():
    assert ConstantMeter(4.5).stop() == 4.5
    for bad in (0.0, -1.0, float("nan")):
        with pytest.raises(MeterError, match="--power-w must be a power > 0 W"):
            ConstantMeter(bad)


def test_auto_choice_on_a_machine_without_meters(tmp_path):
    meter, reasons = discover("cpu", root=tmp_path)
    assert meter is None
    assert len(reasons) == 2 and "ina3221" in reasons[0] and "rapl" in reasons[1]
    with pytest.raises(MeterError, match="give --power-w WATTS"):
        choose_meter("auto", "cpu", root=tmp_path)
    assert isinstance(choose_meter("auto", "cpu", power_w=6.0, root=tmp_path), ConstantMeter)


def test_auto_choice_prefers_a_real_meter(tmp_path):
    rapl_tree(tmp_path)
    assert isinstance(choose_meter("auto", "cpu", power_w=6.0, root=tmp_path), RaplMeter)
    hwmon_tree(tmp_path, {"VDD_IN": (5000, 1000)})  # a Jetson board: its rails come first
    assert isinstance(choose_meter("auto", "cpu", root=tmp_path), Ina3221Meter)


def test_nvml_says_why_it_is_unavailable():
    try:
        meter = meters.NvmlMeter.discover(0)
    except MeterError as exc:
        assert str(exc).startswith("nvml: ")
    else:  # a machine with an NVIDIA driver: a real reading
        assert meter.power_w() > 0
        meter.close()
