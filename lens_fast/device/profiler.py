"""Measure per-layer latency and power on this machine into a resumable profile table.

`run_profile` builds each `LayerShape` in torch at batch 1 on the CPU or a CUDA GPU,
times it (`time_call`: warm-up calls, then timed repeats, each ended by a CUDA
synchronisation, and their median), reads the power meter over the timed repeats,
and appends one CSV row per shape as soon as it is measured (flushed and synced).
A rerun on the same table skips the shapes already in it, so an interrupted or
budget-limited run continues where it stopped.

The table is a profile table (DESIGN.md schema, `lens_fast.device.table`) with extra
columns: ``origin`` (space or random), ``shape`` (the resume key), ``repeats``,
``wall_ms`` and ``cpu_ms`` (medians of both clocks; ``latency_ms`` is the one the
run's ``--clock`` picks), ``latency_iqr_ms``, ``window_s`` (the metered window), ``cpu_share`` (CPU time the
process got over the window per thread, CPU only: below 0.9 other processes
disturbed the timing, and the shape was measured again) and ``load1`` (the 1-minute
load average when the row was written). Its sidecar
``<table>.meta.json`` records the device, torch, thread count, the power meter and
every run; appending from another device or with another meter is refused.
"""

from __future__ import annotations

import json
import math
import os
import platform
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import partial
from pathlib import Path

import numpy as np

from lens_fast.device.meters import PowerMeter
from lens_fast.device.shapes import OPS, LayerShape, random_shapes, space_shapes
from lens_fast.device.table import meta_path
from lens_fast.errors import InputFileError, ProfileError
from lens_fast.report.machine import cpu_name

RUN_FORMAT = "lens-fast-profile-run"
RUN_COLUMNS: tuple[str, ...] = (
    "op", "in_features", "out_features", "k2f", "latency_ms", "power_w",
    "origin", "shape", "repeats", "wall_ms", "cpu_ms", "latency_iqr_ms", "window_s",
    "cpu_share", "load1",
)  # fmt: skip
MIN_CPU_SHARE = 0.9  # below: the run was disturbed by other processes; measure again
CONFIG_SETS: tuple[str, ...] = ("space", "random", "both")
CLOCKS: tuple[str, ...] = ("wall", "cpu")
DEVICES: tuple[str, ...] = ("cpu", "cuda")


@dataclass(frozen=True)
class Timing:
    """Result of `time_call`: median latency (ms) by the chosen clock, spread, repeats,
    mean power (W), and both clocks' medians.

    `wall_ms`: median wall-clock time of a call. `cpu_ms`: median CPU time of the
    calling thread during a call (the compute time when torch runs on that one
    thread; unaffected by other processes taking the core). `cpu_share`: CPU time the
    process got over the timed window divided by (window x threads); near 1 when
    undisturbed, lower when other processes took the cores (NaN when not computed).
    """

    latency_ms: float
    iqr_ms: float
    repeats: int
    power_w: float
    window_s: float
    cpu_share: float = math.nan
    wall_ms: float = math.nan
    cpu_ms: float = math.nan


def time_call(
    fn: Callable[[], object],
    sync: Callable[[], None] | None = None,
    meter: PowerMeter | None = None,
    warmup: int = 3,
    repeats: int = 15,
    min_repeats: int = 3,
    max_seconds: float = 1.0,
    warmup_seconds: float = 0.5,
    cpu_threads: int | None = None,
    clock: str = "wall",
) -> Timing:
    """Time `fn` (a layer or model call) and meter its power.

    Warm-up: at least one call, then up to `warmup` calls while under
    `warmup_seconds`. Timed repeats: each call is timed alone and followed by `sync`
    (CUDA synchronisation); at least `min_repeats`, then up to `repeats` while under
    `max_seconds`, and on until the meter's `min_window_s` is covered. The latency is
    the median of the repeats by `clock` ('wall', or 'cpu': the calling thread's CPU
    time, meaningful for single-thread CPU work), the power the meter's mean over all
    of them (NaN without a meter). With `cpu_threads` (the threads `fn` computes on),
    the process CPU time over the window gives `Timing.cpu_share`.
    """
    if clock not in CLOCKS:
        raise ProfileError(f"clock must be one of {', '.join(CLOCKS)}, got {clock!r}")
    sync = sync or (lambda: None)
    t_begin = time.perf_counter()
    for _ in range(max(warmup, 1)):
        fn()
        sync()
        if time.perf_counter() - t_begin > warmup_seconds:
            break
    walls: list[float] = []
    cpus: list[float] = []
    need_window = meter.min_window_s if meter is not None else 0.0
    if meter is not None:
        meter.start()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    while True:
        ts, tc = time.perf_counter(), time.thread_time()
        fn()
        sync()
        cpus.append(time.thread_time() - tc)
        walls.append(time.perf_counter() - ts)
        spent = time.perf_counter() - t0
        if len(walls) < min_repeats:
            continue
        if (len(walls) >= repeats or spent >= max_seconds) and spent >= need_window:
            break
    window = time.perf_counter() - t0
    cpu_s = time.process_time() - cpu0
    power = meter.stop() if meter is not None else math.nan
    share = cpu_s / (window * cpu_threads) if cpu_threads and window > 0 else math.nan
    wall_ms, cpu_ms = np.asarray(walls) * 1e3, np.asarray(cpus) * 1e3
    ms = wall_ms if clock == "wall" else cpu_ms
    q1, q3 = np.percentile(ms, [25, 75])
    return Timing(float(np.median(ms)), float(q3 - q1), len(walls), power, window, share,
                  float(np.median(wall_ms)), float(np.median(cpu_ms)))  # fmt: skip


def torch_sync(device: str) -> Callable[[], None]:
    """A no-op on the CPU, `torch.cuda.synchronize` on CUDA."""
    if device == "cuda":
        import torch

        return torch.cuda.synchronize
    return lambda: None


def check_device(device: str) -> None:
    """Refuse an unknown device or a CUDA device torch can't see."""
    if device not in DEVICES:
        raise ProfileError(f"--device must be one of {', '.join(DEVICES)}, got {device!r}")
    if device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise ProfileError(
                f"--device cuda, but torch {torch.__version__} sees no CUDA GPU "
                f"(built with CUDA {torch.version.cuda}); use --device cpu"
            )


def device_identity(device: str) -> dict:
    """What identifies the measured device: kind, hardware name, torch threads."""
    import torch

    if device == "cuda":
        name = torch.cuda.get_device_name(torch.cuda.current_device())
        label = f"cuda: {name}"
    else:
        name = cpu_name()
        label = f"cpu: {name} ({torch.get_num_threads()} torch threads)"
    return {
        "device": label,
        "device_kind": device,
        "hardware": name,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "host": socket.gethostname(),
        "machine": platform.machine(),
    }


def parse_ops(text: str | None) -> tuple[str, ...]:
    """'conv,relu' -> ('conv', 'relu'); unknown names raise `ProfileError`."""
    if text is None:
        return OPS
    names = [t.strip().lower() for t in text.split(",") if t.strip()]
    if not names:
        raise ProfileError(f"--ops is empty, expected a comma-separated subset of {','.join(OPS)}")
    for n in names:
        if n not in OPS:
            raise ProfileError(f"unknown op {n!r} in --ops, expected a subset of {','.join(OPS)}")
    return tuple(op for op in OPS if op in names)


def planned_shapes(ops: tuple[str, ...], configs: str, random_per_op: int = 100,
                   seed: int = 0) -> list[tuple[str, LayerShape]]:  # fmt: skip
    """(origin, shape) pairs a run measures, space first, each set in a seeded shuffle."""
    if configs not in CONFIG_SETS:
        raise ProfileError(f"--configs must be one of {', '.join(CONFIG_SETS)}, got {configs!r}")
    plan: list[tuple[str, LayerShape]] = []
    if configs in ("space", "both"):
        plan += _shuffled("space", space_shapes(ops), seed)
    if configs in ("random", "both"):
        if random_per_op < 1:
            raise ProfileError(f"--random-count must be >= 1 per op, got {random_per_op}")
        plan += _shuffled("random", random_shapes(ops, random_per_op, seed), seed)
    seen: set[str] = set()
    unique = []
    for origin, shape in plan:  # a random shape that the space has too is measured once
        if shape.name not in seen:
            seen.add(shape.name)
            unique.append((origin, shape))
    return unique


def _shuffled(origin: str, shapes: list[LayerShape], seed: int) -> list[tuple[str, LayerShape]]:
    order = np.random.default_rng([seed, len(shapes)]).permutation(len(shapes))
    return [(origin, shapes[i]) for i in order]


class RunTable:
    """A CSV profile table that a run appends to, with its metadata sidecar."""

    def __init__(self, path: str | Path, identity: dict, meter: dict, clock: str = "wall") -> None:
        self.path = Path(path)
        self.meta_file = meta_path(self.path)
        if self.path.suffix.lower() != ".csv":
            raise InputFileError(
                f"profile run writes CSV (rows are appended as measured), got {self.path}"
            )
        if self.path.is_dir():
            raise InputFileError(f"--out must be a table file, got a folder: {self.path}")
        self.done: set[str] = set()
        if self.path.exists() and self.path.stat().st_size > 0:
            self.meta = self._check_existing(identity, meter, clock)
        else:
            self.meta = {"format": RUN_FORMAT, "version": 1, **identity, "meter": meter,
                         "clock": clock, "created": _now(), "runs": []}  # fmt: skip
            self._write(lambda f: f.write(",".join(RUN_COLUMNS) + "\n"), "w")
            self.save_meta()

    def _check_existing(self, identity: dict, meter: dict, clock: str) -> dict:
        where = self.path
        if not self.meta_file.exists():
            raise ProfileError(
                f"{where} exists without {self.meta_file.name}: profile run appends only "
                "to tables it wrote; give another --out"
            )
        try:
            meta = json.loads(self.meta_file.read_text())
        except (OSError, ValueError) as exc:
            raise ProfileError(f"{self.meta_file} is not valid JSON: {exc}") from exc
        if meta.get("format") != RUN_FORMAT:
            raise ProfileError(
                f"{where} was not written by `lens-fast profile run`; give another --out"
            )
        if meta.get("device") != identity["device"]:
            raise ProfileError(
                f"{where} was measured on {meta.get('device')!r}, this run is on "
                f"{identity['device']!r}; give another --out"
            )
        old = meta.get("meter", {})
        if (old.get("meter"), old.get("power_w")) != (meter.get("meter"), meter.get("power_w")):
            raise ProfileError(
                f"{where} was measured with power meter {_meter_text(old)}, this run would use "
                f"{_meter_text(meter)}; give the same meter or another --out"
            )
        if meta.get("clock", "wall") != clock:
            raise ProfileError(
                f"{where} was timed with the {meta.get('clock', 'wall')} clock, this run uses "
                f"--clock {clock}; give the same clock or another --out"
            )
        self._write(lambda f: None, "a")  # writable, or say so before measuring
        self._repair_tail()
        with self.path.open() as f:
            header = f.readline().strip()
            if header != ",".join(RUN_COLUMNS):
                raise ProfileError(f"{where}: header {header[:60]!r} is not a profile run table's")
            col = RUN_COLUMNS.index("shape")
            for line in f:
                parts = line.rstrip("\n").split(",")
                if len(parts) == len(RUN_COLUMNS):
                    self.done.add(parts[col])
        return meta

    def _repair_tail(self) -> None:
        """Drop a partial last line (a run killed while writing it)."""
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            cut = data.rfind(b"\n") + 1
            self._write(lambda f: f.truncate(cut), "r+")

    def _write(self, action: Callable, mode: str) -> None:
        try:
            with self.path.open(mode) as f:
                action(f)
        except OSError as exc:
            raise InputFileError(f"cannot write {self.path}: {exc.strerror or exc}") from exc

    def append(self, origin: str, shape: LayerShape, timing: Timing, load1: float) -> None:
        """Write one measured row, flushed to disk."""
        op, fin, fout, k2f = shape.key
        row = [op, fin, fout if op in ("pool", "fc") else "", k2f if op == "conv" else "",
               f"{timing.latency_ms:.6g}", f"{timing.power_w:.6g}", origin, shape.name,
               timing.repeats, f"{timing.wall_ms:.6g}", f"{timing.cpu_ms:.6g}",
               f"{timing.iqr_ms:.4g}", f"{timing.window_s:.4g}",
               "" if math.isnan(timing.cpu_share) else f"{timing.cpu_share:.3f}", f"{load1:.2f}"]  # fmt: skip

        def write(f):
            f.write(",".join(str(v) for v in row) + "\n")
            f.flush()
            os.fsync(f.fileno())

        self._write(write, "a")
        self.done.add(shape.name)

    def save_meta(self) -> None:
        try:
            self.meta_file.write_text(json.dumps(self.meta, indent=2, sort_keys=True))
        except OSError as exc:
            raise InputFileError(f"cannot write {self.meta_file}: {exc.strerror or exc}") from exc


def time_undisturbed(
    fn: Callable[[], object],
    sync: Callable[[], None] | None,
    meter: PowerMeter | None,
    warmup: int,
    repeats: int,
    max_seconds: float,
    threads: int | None,
    retries: int,
    clock: str = "wall",
) -> Timing:
    """`time_call`, again after a pause of 0.5, 1, 2, ... s while its CPU share is below
    `MIN_CPU_SHARE` (at most `retries` times); the attempt with the highest share.

    One attempt when `threads` is None (CUDA: no share) or with the 'cpu' clock
    (which other processes do not inflate).
    """
    best = time_call(fn, sync, meter, warmup, repeats, min(3, repeats), max_seconds,
                     cpu_threads=threads, clock=clock)  # fmt: skip
    for attempt in range(retries):
        if threads is None or clock == "cpu" or best.cpu_share >= MIN_CPU_SHARE:
            break
        time.sleep(0.5 * 2.0**attempt)
        again = time_call(fn, sync, meter, warmup, repeats, min(3, repeats), max_seconds,
                          cpu_threads=threads, clock=clock)  # fmt: skip
        if again.cpu_share > best.cpu_share:
            best = again
    return best


def _meter_text(meter: dict) -> str:
    name = meter.get("meter", "?")
    return f"constant {meter.get('power_w')} W" if name == "constant" else str(name)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")  # noqa: UP017


@dataclass
class RunSummary:
    """What a run did."""

    table: Path
    planned: int
    skipped: int
    measured: int = 0
    elapsed_s: float = 0.0
    stopped_by_budget: bool = False
    loads: list[float] = field(default_factory=list)
    disturbed: int = 0  # rows written with a CPU share below MIN_CPU_SHARE

    @property
    def remaining(self) -> int:
        return self.planned - self.skipped - self.measured


def run_profile(
    out: str | Path,
    meter: PowerMeter,
    device: str = "cpu",
    ops: tuple[str, ...] = OPS,
    configs: str = "space",
    budget_s: float | None = None,
    warmup: int = 3,
    repeats: int = 15,
    max_seconds: float = 1.0,
    random_per_op: int = 100,
    seed: int = 0,
    retries: int = 3,
    clock: str = "wall",
    on_start: Callable[[int, int], None] | None = None,
    progress: Callable[[str, LayerShape, Timing], None] | None = None,
) -> RunSummary:
    """Measure every planned shape not yet in the table `out`; see the module docstring.

    `on_start(total_to_measure, skipped)` is called once the plan is known;
    `progress(origin, shape, timing)` after each row is written. Stops starting new
    shapes once `budget_s` seconds have passed (at least one is measured per run).

    On the CPU, a shape whose timed window got less than `MIN_CPU_SHARE` of its
    threads' CPU time (other processes were running) is measured again, up to
    `retries` times after pauses of 0.5, 1, 2, ... s; the attempt with the highest
    share is written, with its ``cpu_share``, so disturbed rows stay visible.
    `clock` 'cpu' (CPU device, one torch thread) takes the compute thread's CPU time
    per call as the latency instead of the wall clock: on a machine shared with other
    work it is what the layer costs when it has the core.
    """
    import torch

    check_device(device)
    if budget_s is not None and not budget_s > 0:
        raise ProfileError(f"--budget must be > 0 seconds, got {budget_s:g}")
    if warmup < 0 or repeats < 1 or max_seconds <= 0 or retries < 0:
        raise ProfileError(
            f"need --warmup >= 0, --repeats >= 1, a time per config > 0 and --retries >= 0, "
            f"got {warmup}, {repeats}, {max_seconds:g}, {retries}"
        )
    if clock not in CLOCKS:
        raise ProfileError(f"--clock must be one of {', '.join(CLOCKS)}, got {clock!r}")
    if clock == "cpu" and (device != "cpu" or torch.get_num_threads() != 1):
        raise ProfileError(
            "--clock cpu times the calling thread, so it needs --device cpu and --threads 1, "
            f"got --device {device} with {torch.get_num_threads()} torch threads"
        )
    plan = planned_shapes(ops, configs, random_per_op, seed)
    table = RunTable(out, device_identity(device), meter.describe(), clock)
    todo = [(o, s) for o, s in plan if s.name not in table.done]
    summary = RunSummary(table.path, len(plan), len(plan) - len(todo))
    run_record = {"started": _now(), "configs": configs, "ops": list(ops), "seed": seed,
                  "warmup": warmup, "repeats": repeats, "max_seconds": max_seconds,
                  "retries": retries, "clock": clock,
                  "load1_start": os.getloadavg()[0]}  # fmt: skip
    if on_start is not None:
        on_start(len(todo), summary.skipped)
    sync = torch_sync(device)
    threads = torch.get_num_threads() if device == "cpu" else None
    t_start = time.monotonic()
    try:
        with torch.inference_mode():
            for origin, shape in todo:
                spent = time.monotonic() - t_start
                if summary.measured and budget_s is not None and spent >= budget_s:
                    summary.stopped_by_budget = True  # never before the first: runs advance
                    break
                module, x = shape.build(device)
                timing = time_undisturbed(partial(module, x), sync, meter, warmup, repeats,
                                          max_seconds, threads, retries, clock)  # fmt: skip
                load1 = os.getloadavg()[0]
                table.append(origin, shape, timing, load1)
                summary.measured += 1
                summary.loads.append(load1)
                summary.disturbed += int(timing.cpu_share < MIN_CPU_SHARE)
                del module, x
                if progress is not None:
                    progress(origin, shape, timing)
    finally:
        summary.elapsed_s = time.monotonic() - t_start
        run_record.update(finished=_now(), measured=summary.measured, skipped=summary.skipped,
                          elapsed_s=round(summary.elapsed_s, 3),
                          stopped_by_budget=summary.stopped_by_budget,
                          disturbed_rows=summary.disturbed,
                          load1_end=os.getloadavg()[0])  # fmt: skip
        table.meta.setdefault("runs", []).append(run_record)
        table.save_meta()
    return summary
