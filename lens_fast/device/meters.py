"""Power meters for the profiler: NVML, Linux powercap RAPL, Jetson INA3221, or a constant.

A meter is started before the timed repeats of a layer and stopped after them; `stop`
returns the mean power over that window in watts. Two kinds of reading exist:

* energy counters (RAPL ``energy_uj``, NVML total energy in mJ): mean W = dE / dt,
  with RAPL's counter wrap-around handled;
* instantaneous power (INA3221 rails, NVML power usage where no energy counter
  exists): a background thread samples every `SAMPLE_INTERVAL_S` during the window
  and the mean of the samples is returned.

A meter that cannot be read raises `MeterError` with the reason; a reading that is
not a finite number > 0 (a counter that did not move, a rail that reads 0) raises
too, so a table never gets zeros in its power column. `min_window_s` is the shortest
window a meter can resolve; the profiler extends the timed repeats to reach it.

Where the files live (``root`` defaults to ``/``; `LENS_FAST_SYSFS_ROOT` overrides,
which is how the tests run the real code on a sysfs-like folder):

* RAPL: ``sys/class/powercap/intel-rapl:<n>/{name,energy_uj,max_energy_range_uj}``,
  top-level ``package-*`` zones summed (also on AMD, which uses the same interface).
* INA3221 on Jetson boards, mainline hwmon driver:
  ``sys/bus/i2c/drivers/ina3221/<bus-addr>/hwmon/hwmon*/in<c>_label``, ``in<c>_input``
  (mV), ``curr<c>_input`` (mA); older L4T kernels (TX1/TX2, JetPack 4):
  ``sys/bus/i2c/drivers/ina3221x/<bus-addr>/iio:device*/rail_name_<c>``,
  ``in_power<c>_input`` (mW) or ``in_voltage<c>_input`` x ``in_current<c>_input``.
  The module input rail (``VDD_IN``, ``POM_5V_IN``, ``5V_IN``) is the board power
  when present; otherwise (AGX Xavier has none) every rail is summed.
* NVML: ``libnvidia-ml.so.1`` through ctypes (no Python package needed), the board
  power of the GPU that torch uses.
"""

from __future__ import annotations

import ctypes
import math
import os
import re
import threading
import time
from abc import ABC, abstractmethod
from pathlib import Path

from lens_fast.errors import ProfileError

METER_NAMES: tuple[str, ...] = ("nvml", "rapl", "ina3221", "constant")
SAMPLE_INTERVAL_S = 0.005
BOARD_RAILS: tuple[str, ...] = ("VDD_IN", "POM_5V_IN", "5V_IN")
Rail = tuple[str, tuple[Path, ...], str]  # label, files, layout ('mw' or 'mv_ma')


class MeterError(ProfileError):
    """A power meter is missing, unreadable, or gave an impossible reading."""


def sysfs_root(root: str | Path | None = None) -> Path:
    """The folder that stands for ``/`` when meters look for sysfs files."""
    if root is not None:
        return Path(root)
    return Path(os.environ.get("LENS_FAST_SYSFS_ROOT", "/"))


def _read_number(path: Path) -> float:
    try:
        text = path.read_text().strip()
    except PermissionError as exc:
        raise MeterError(
            f"cannot read {path}: permission denied (run as a user allowed to read it)"
        ) from exc
    except OSError as exc:
        raise MeterError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from exc
    try:
        return float(text)
    except ValueError:
        raise MeterError(f"{path} holds {text[:40]!r}, expected a number") from None


def _checked_watts(name: str, watts: float, detail: str) -> float:
    if not (math.isfinite(watts) and watts > 0):
        raise MeterError(f"power meter {name} read {watts} W {detail}; expected a finite power > 0")
    return watts


class PowerMeter(ABC):
    """Start before a measured window, stop after it: mean watts over the window."""

    name: str = "meter"
    min_window_s: float = 0.0

    @abstractmethod
    def describe(self) -> dict:
        """What the meter measures, for the table's metadata."""

    @abstractmethod
    def start(self) -> None:
        """Begin a window."""

    @abstractmethod
    def stop(self) -> float:
        """End the window; mean power in W (raises `MeterError`, never returns <= 0)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (NVML handle)."""


class ConstantMeter(PowerMeter):
    """The power the user states (`--power-w`), for devices without a readable meter."""

    name = "constant"

    def __init__(self, watts: float) -> None:
        if not (math.isfinite(watts) and watts > 0):
            raise MeterError(f"--power-w must be a power > 0 W, got {watts}")
        self.watts = float(watts)

    def describe(self) -> dict:
        return {"meter": self.name, "power_w": self.watts,
                "what": f"constant {self.watts:g} W stated by the user"}  # fmt: skip

    def start(self) -> None:
        pass

    def stop(self) -> float:
        return self.watts


class RaplMeter(PowerMeter):
    """CPU package energy from Linux powercap RAPL (sum of the package zones)."""

    name = "rapl"
    min_window_s = 0.05  # the counters move about every millisecond

    def __init__(self, zones: list[Path]) -> None:
        self.zones = zones
        self._t0 = 0.0
        self._ranges = [_read_number(z / "max_energy_range_uj") * 1e-6 for z in zones]
        self._last: list[float] = []

    @classmethod
    def discover(cls, root: str | Path | None = None) -> RaplMeter:
        base = sysfs_root(root) / "sys" / "class" / "powercap"
        if not base.is_dir():
            raise MeterError(f"rapl: no {base} (no powercap RAPL on this machine)")
        zones = []
        for zone in sorted(base.glob("intel-rapl:*")):
            if zone.name.count(":") != 1 or not (zone / "name").exists():
                continue  # sub-zones (core, uncore, dram) are inside the packages
            try:
                if (zone / "name").read_text().strip().startswith("package"):
                    zones.append(zone)
            except OSError:
                continue
        if not zones:
            raise MeterError(f"rapl: no package zone under {base}")
        meter = cls(zones)
        meter.energy_j()  # readable now, or say why not
        return meter

    def describe(self) -> dict:
        return {"meter": self.name, "zones": [str(z) for z in self.zones],
                "what": "CPU package energy (powercap RAPL), dE/dt"}  # fmt: skip

    def energy_j(self) -> float:
        return sum(_read_number(z / "energy_uj") * 1e-6 for z in self.zones)

    def start(self) -> None:
        self._last = [_read_number(z / "energy_uj") * 1e-6 for z in self.zones]
        self._t0 = time.perf_counter()

    def stop(self) -> float:
        end = [_read_number(z / "energy_uj") * 1e-6 for z in self.zones]
        dt = time.perf_counter() - self._t0
        de = 0.0
        for e0, e1, span in zip(self._last, end, self._ranges, strict=True):
            de += e1 - e0 if e1 >= e0 else e1 - e0 + span  # each zone wraps on its own
        return _checked_watts(self.name, de / dt if dt > 0 else math.nan,
                              f"({de:.6g} J over {dt:.4f} s)")  # fmt: skip


class _SampledMeter(PowerMeter):
    """Mean of instantaneous power samples taken by a thread during the window."""

    def __init__(self) -> None:
        self._samples: list[float] = []
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @abstractmethod
    def power_w(self) -> float:
        """One instantaneous reading in W."""

    def _loop(self) -> None:
        try:
            while not self._stop.wait(SAMPLE_INTERVAL_S):
                self._samples.append(self.power_w())
        except BaseException as exc:  # reported by stop()
            self._error = exc

    def start(self) -> None:
        self._samples = [self.power_w()]
        self._error = None
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name=f"{self.name}-meter", daemon=True)
        self._thread.start()

    def stop(self) -> float:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        if self._error is not None:
            if isinstance(self._error, MeterError):
                raise self._error
            raise MeterError(f"power meter {self.name} failed while sampling: {self._error}")
        self._samples.append(self.power_w())
        bad = [w for w in self._samples if not (math.isfinite(w) and w > 0)]
        if bad:
            _checked_watts(self.name, bad[0], f"in one of {len(self._samples)} samples")
        return _checked_watts(self.name, sum(self._samples) / len(self._samples),
                              f"(mean of {len(self._samples)} samples)")  # fmt: skip


class Ina3221Meter(_SampledMeter):
    """Jetson board power from the INA3221 rail monitors in sysfs."""

    name = "ina3221"
    min_window_s = 0.02

    def __init__(self, rails: list[Rail]) -> None:
        """`rails`: (label, files, layout) with layout 'mw' (one power file) or 'mv_ma'."""
        super().__init__()
        self.rails = rails

    @classmethod
    def discover(cls, root: str | Path | None = None) -> Ina3221Meter:
        drivers = sysfs_root(root) / "sys" / "bus" / "i2c" / "drivers"
        rails = _hwmon_rails(drivers / "ina3221") + _iio_rails(drivers / "ina3221x")
        if not rails:
            raise MeterError(f"ina3221: no INA3221 rails under {drivers} (not a Jetson board)")
        board = [r for r in rails if r[0].upper() in BOARD_RAILS]
        meter = cls(board[:1] if board else rails)
        meter.power_w()
        return meter

    def describe(self) -> dict:
        labels = [r[0] for r in self.rails]
        what = "board input rail" if len(labels) == 1 and labels[0].upper() in BOARD_RAILS \
            else "sum of all INA3221 rails (no board input rail found)"  # fmt: skip
        return {"meter": self.name, "rails": labels, "files": [str(r[1][0]) for r in self.rails],
                "what": f"{what}, sampled every {SAMPLE_INTERVAL_S * 1e3:g} ms"}  # fmt: skip

    def power_w(self) -> float:
        total = 0.0
        for _label, files, layout in self.rails:
            if layout == "mw":
                total += _read_number(files[0]) * 1e-3
            else:
                total += _read_number(files[0]) * _read_number(files[1]) * 1e-6
        return total


def _hwmon_rails(driver: Path) -> list[Rail]:
    rails: list[Rail] = []
    for hwmon in sorted(driver.glob("*/hwmon/hwmon*")):
        for label_file in sorted(hwmon.glob("in[1-3]_label")):
            ch = label_file.name[2]
            volts, amps = hwmon / f"in{ch}_input", hwmon / f"curr{ch}_input"
            if volts.exists() and amps.exists():
                rails.append((_label(label_file), (volts, amps), "mv_ma"))
    return rails


def _label(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise MeterError(f"ina3221: cannot read {path}: {exc.strerror or exc}") from exc


def _iio_rails(driver: Path) -> list[Rail]:
    rails: list[Rail] = []
    for dev in sorted(driver.glob("*/iio:device*")):
        for name_file in sorted(dev.glob("rail_name_*")):
            ch = name_file.name.rsplit("_", 1)[1]
            label = _label(name_file)
            power = dev / f"in_power{ch}_input"
            if power.exists():
                rails.append((label, (power,), "mw"))
                continue
            volts, amps = dev / f"in_voltage{ch}_input", dev / f"in_current{ch}_input"
            if volts.exists() and amps.exists():
                rails.append((label, (volts, amps), "mv_ma"))
    return rails


class NvmlMeter(_SampledMeter):
    """GPU board power from NVML: the energy counter (Volta+) or sampled power usage."""

    name = "nvml"
    min_window_s = 0.1  # NVML refreshes its readings every few tens of ms

    def __init__(
        self, lib: ctypes.CDLL, handle: ctypes.c_void_p, gpu_name: str, index: int
    ) -> None:
        super().__init__()
        self._lib = lib
        self._handle = handle
        self.gpu_name = gpu_name
        self.index = index
        self._e0 = 0.0
        self._t0 = 0.0
        self.uses_energy = self._energy_mj() is not None

    @classmethod
    def discover(cls, cuda_index: int = 0) -> NvmlMeter:
        try:
            lib = ctypes.CDLL("libnvidia-ml.so.1")
        except OSError as exc:
            raise MeterError(
                f"nvml: libnvidia-ml.so.1 not loadable ({exc}); no NVIDIA driver"
            ) from None
        lib.nvmlErrorString.restype = ctypes.c_char_p
        _nvml_check(lib, lib.nvmlInit_v2(), "nvmlInit")
        handle = ctypes.c_void_p()
        uuid = _torch_gpu_uuid(cuda_index)
        if uuid is not None and not uuid.startswith("GPU-"):
            uuid = "GPU-" + uuid  # NVML's spelling of the UUID that torch reports bare
        found = uuid is not None and lib.nvmlDeviceGetHandleByUUID(
            uuid.encode(), ctypes.byref(handle)) == 0  # fmt: skip
        if not found:  # NVML numbers GPUs in PCI order; CUDA_DEVICE_ORDER=PCI_BUS_ID agrees
            _nvml_check(lib, lib.nvmlDeviceGetHandleByIndex_v2(cuda_index, ctypes.byref(handle)),
                        "nvmlDeviceGetHandleByIndex")  # fmt: skip
        buf = ctypes.create_string_buffer(96)
        _nvml_check(lib, lib.nvmlDeviceGetName(handle, buf, 96), "nvmlDeviceGetName")
        meter = cls(lib, handle, buf.value.decode(), cuda_index)
        meter.power_w()
        return meter

    def _energy_mj(self) -> float | None:
        value = ctypes.c_ulonglong()
        if self._lib.nvmlDeviceGetTotalEnergyConsumption(self._handle, ctypes.byref(value)) != 0:
            return None
        return float(value.value)

    def power_w(self) -> float:
        value = ctypes.c_uint()
        _nvml_check(self._lib, self._lib.nvmlDeviceGetPowerUsage(self._handle, ctypes.byref(value)),
                    "nvmlDeviceGetPowerUsage")  # fmt: skip
        return value.value * 1e-3

    def describe(self) -> dict:
        how = "total energy counter, dE/dt" if self.uses_energy else \
            f"power usage sampled every {SAMPLE_INTERVAL_S * 1e3:g} ms"  # fmt: skip
        return {"meter": self.name, "gpu": self.gpu_name, "cuda_index": self.index,
                "what": f"GPU board power (NVML), {how}"}  # fmt: skip

    def start(self) -> None:
        if not self.uses_energy:
            super().start()
            return
        self._e0 = self._energy_mj() or math.nan
        self._t0 = time.perf_counter()

    def stop(self) -> float:
        if not self.uses_energy:
            return super().stop()
        e1 = self._energy_mj()
        dt = time.perf_counter() - self._t0
        if e1 is None:
            raise MeterError("power meter nvml: the energy counter stopped answering")
        de = (e1 - self._e0) * 1e-3
        return _checked_watts(self.name, de / dt if dt > 0 else math.nan,
                              f"({de:.6g} J over {dt:.4f} s)")  # fmt: skip

    def close(self) -> None:
        self._lib.nvmlShutdown()


def _nvml_check(lib: ctypes.CDLL, code: int, what: str) -> None:
    if code != 0:
        raise MeterError(f"nvml: {what} failed: {lib.nvmlErrorString(code).decode()} (code {code})")


def _torch_gpu_uuid(index: int) -> str | None:
    try:
        import torch

        return str(torch.cuda.get_device_properties(index).uuid)
    except Exception:
        return None


def discover(device: str, root: str | Path | None = None, cuda_index: int = 0
             ) -> tuple[PowerMeter | None, list[str]]:  # fmt: skip
    """The first readable meter for `device` ('cpu' or 'cuda'), and why others were not.

    Order: cuda -> NVML, INA3221, RAPL; cpu -> INA3221 (a Jetson board), RAPL.
    """
    order = ("nvml", "ina3221", "rapl") if device == "cuda" else ("ina3221", "rapl")
    reasons: list[str] = []
    for name in order:
        try:
            return open_meter(name, device, root=root, cuda_index=cuda_index), reasons
        except MeterError as exc:
            reasons.append(str(exc))
    return None, reasons


def open_meter(name: str, device: str = "cpu", power_w: float | None = None,
               root: str | Path | None = None, cuda_index: int = 0) -> PowerMeter:  # fmt: skip
    """Open the meter called `name` (one of METER_NAMES); raises `MeterError` if it can't."""
    if name == "constant":
        if power_w is None:
            raise MeterError("the constant meter needs --power-w WATTS")
        return ConstantMeter(power_w)
    if name == "rapl":
        return RaplMeter.discover(root)
    if name == "ina3221":
        return Ina3221Meter.discover(root)
    if name == "nvml":
        return NvmlMeter.discover(cuda_index)
    raise MeterError(f"unknown power meter {name!r}, expected one of {', '.join(METER_NAMES)}")


def choose_meter(name: str, device: str, power_w: float | None = None,
                 root: str | Path | None = None, cuda_index: int = 0) -> PowerMeter:  # fmt: skip
    """The meter of a profile run: `name` 'auto' picks a real one, else `power_w`.

    Raises `MeterError` naming every meter tried and why it failed when there is
    none and no `power_w`.
    """
    if name != "auto":
        return open_meter(name, device, power_w, root, cuda_index)
    meter, reasons = discover(device, root, cuda_index)
    if meter is not None:
        return meter
    if power_w is not None:
        return ConstantMeter(power_w)
    short = "; ".join(re.sub(r"\s+", " ", r) for r in reasons)
    raise MeterError(f"no power meter readable on this machine ({short}); give --power-w WATTS")
