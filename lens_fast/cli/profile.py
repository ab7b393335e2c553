"""`lens-fast profile run|fit|show`: measure this device, fit the predictors, inspect a profile."""

from __future__ import annotations

import json
import math
import signal
import sys
import time
from typing import Any

import click

from lens_fast.cli.common import emit, format_option, info, render, stderr_is_tty

MAPE_COLUMNS = ("op", "target", "rows", "heldout_mape_pct")
SHOW_COLUMNS = ("op", "configs", "latency_min_ms", "latency_median_ms",
                "latency_max_ms", "power_mean_w", "latency_mape_pct", "power_mape_pct")  # fmt: skip


@click.group()
def profile() -> None:
    """Measure per-layer latency and power on this device and fit the predictors."""


@profile.command("run")
@click.option(
    "--device",
    type=click.Choice(["cpu", "cuda"]),
    default="cpu",
    show_default=True,
    help="Where torch runs the layers.",
)
@click.option(
    "--ops", default=None, help="Comma-separated ops [default: conv,batchnorm,relu,pool,fc]."
)
@click.option(
    "--configs",
    type=click.Choice(["space", "random", "both"]),
    default="space",
    show_default=True,
    help="Layer configs: every one of the VGG space, a random campaign, or both.",
)
@click.option(
    "--budget",
    type=float,
    default=None,
    help="Stop starting new configs after this many seconds (rerun to continue).",
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="Table to append to (CSV); configs already in it are skipped.",
)
@click.option(
    "--meter",
    type=click.Choice(["auto", "nvml", "rapl", "ina3221", "constant"]),
    default="auto",
    show_default=True,
    help="Power meter; auto picks NVML (cuda), INA3221 (Jetson) or RAPL, else --power-w.",
)
@click.option(
    "--power-w",
    type=float,
    default=None,
    help="Constant power (W) recorded when no meter can be read.",
)
@click.option(
    "--repeats",
    type=int,
    default=15,
    show_default=True,
    help="Timed repeats per config (at least 3; fewer when --max-seconds is reached).",
)
@click.option("--warmup", type=int, default=3, show_default=True, help="Warm-up calls per config.")
@click.option(
    "--max-seconds",
    type=float,
    default=1.0,
    show_default=True,
    help="Time cap of the timed repeats of one config.",
)
@click.option(
    "--random-count",
    type=int,
    default=100,
    show_default=True,
    help="Random configs per op (--configs random|both).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random configs.")
@click.option("--threads", type=int, default=None, help="torch CPU threads [default: torch's].")
@click.option(
    "--clock",
    type=click.Choice(["wall", "cpu"]),
    default="wall",
    show_default=True,
    help="Latency clock: wall time, or (CPU, --threads 1) the compute thread's CPU "
    "time, which other processes on a shared machine do not inflate.",
)
@click.option("--retries", type=int, default=3, show_default=True,
              help="CPU: measure a config again (after a pause) when other processes took its "
                   "CPU time; the least disturbed attempt is kept.")  # fmt: skip
def run(device, ops, configs, budget, out_path, meter, power_w, repeats, warmup, max_seconds,
        random_count, seed, threads, clock, retries):  # fmt: skip
    """Measure each layer config in torch at batch 1 and append it to a profile table."""
    from lens_fast.device.meters import choose_meter
    from lens_fast.device.profiler import MIN_CPU_SHARE, check_device, parse_ops, run_profile
    from lens_fast.errors import ProfileError

    op_names = parse_ops(ops)
    if budget is not None and not budget > 0:
        raise ProfileError(f"--budget must be > 0 seconds, got {budget:g}")
    if threads is not None:
        if threads < 1:
            raise ProfileError(f"--threads must be >= 1, got {threads}")
        import torch

        torch.set_num_threads(threads)
    check_device(device)
    power_meter = choose_meter(meter, device, power_w)
    desc = power_meter.describe()
    bar = _Progress(f"profile: power meter {desc['meter']} ({desc['what']})")
    previous = signal.signal(signal.SIGTERM, _interrupt)  # `kill` ends it like Ctrl-C
    try:
        summary = run_profile(out_path, power_meter, device, op_names, configs, budget, warmup,
                              repeats, max_seconds, random_count, seed, retries, clock,
                              bar.start, bar.step)  # fmt: skip
    finally:
        signal.signal(signal.SIGTERM, previous)
        bar.finish()
        power_meter.close()
    loads = summary.loads
    load_text = f"; load average {min(loads):.2f}..{max(loads):.2f}" if loads else ""
    if summary.disturbed:
        load_text += (f"; {summary.disturbed} rows kept a CPU share < {MIN_CPU_SHARE} "
                      "(a busy machine: see the cpu_share column)")  # fmt: skip
    left = ""
    if summary.remaining:
        why = "budget reached" if summary.stopped_by_budget else "stopped"
        left = f"; {summary.remaining} left ({why}: rerun the same command to continue)"
    info(f"profile: measured {summary.measured} configs in {summary.elapsed_s:.1f} s "
         f"({summary.skipped} skipped, already in the table){left}{load_text}; wrote {summary.table}")  # fmt: skip


@profile.command("fit")
@click.argument("table", type=click.Path(dir_okay=False))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Profile folder to write (table, predictors, profile.json).",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the held-out split and of XGBoost.",
)
@format_option
def fit(table, out_dir, seed, fmt):
    """Fit XGBoost per op and target on TABLE; print the held-out MAPE per op."""
    from lens_fast.device.profile import save_profile
    from lens_fast.device.table import load_table

    loaded = load_table(table)
    t0 = time.perf_counter()
    fitted = save_profile(loaded, out_dir, seed=seed)
    records = [_clean(r) for r in fitted.mape_table().to_dict("records")]
    emit(render(records, fmt, MAPE_COLUMNS))
    info(f"profile fit: {len(fitted.predictors)} predictors on {len(loaded)} configs of "
         f"{loaded.device_name!r} in {time.perf_counter() - t0:.1f} s; wrote {out_dir}")  # fmt: skip


@profile.command("show")
@click.argument("profile_dir", type=click.Path(file_okay=False))
@format_option
def show(profile_dir, fmt):
    """Summarise a profile folder: device, meter, rows and held-out MAPE per op."""
    from lens_fast.device.profile import load_profile

    device = load_profile(profile_dir)
    frame = device.table.frame
    mape = {(op, t): p.mape_pct for (op, t), p in device.predictors.predictors.items()}
    records = []
    for op in sorted(set(frame["op"])):
        rows = frame[frame["op"] == op]
        records.append(_clean({
            "op": op, "configs": len(rows),
            "latency_min_ms": float(rows["latency_ms"].min()),
            "latency_median_ms": float(rows["latency_ms"].median()),
            "latency_max_ms": float(rows["latency_ms"].max()),
            "power_mean_w": float(rows["power_w"].mean()),
            "latency_mape_pct": mape.get((op, "latency_ms")),
            "power_mape_pct": mape.get((op, "power_w")),
        }))  # fmt: skip
    meta = device.table.meta
    if fmt == "json":
        doc = {"device": device.name, "table_sha256": device.content_hash,
               "meter": meta.get("meter"), "ops": records}  # fmt: skip
        emit(json.dumps(doc, indent=2, allow_nan=False) + "\n")
        return
    if fmt == "table":
        meter = meta.get("meter")
        meter_text = meter.get("what", meter.get("meter")) if isinstance(meter, dict) else meter
        emit(f"device: {device.name}\nmeter: {meter_text or 'not recorded'}\n"
             f"table sha256: {device.content_hash}\n")  # fmt: skip
    emit(render(records, fmt, SHOW_COLUMNS))


class _Progress:
    """A progress bar on a terminal; a line every 10% of the configs otherwise."""

    def __init__(self, header: str) -> None:
        self.header = header
        self.bar: Any = None
        self.total = 0
        self.done = 0
        self.next_note = 0.1

    def start(self, total: int, skipped: int) -> None:
        self.total = total
        info(self.header)
        info(f"profile: {total} configs to measure, {skipped} already in the table")
        if stderr_is_tty() and total:
            make_bar: Any = click.progressbar  # its overloads don't type a length-only bar
            self.bar = make_bar(length=total, label="profile", item_show_func=_same,
                                file=sys.stderr)  # fmt: skip
            self.bar.__enter__()

    def step(self, origin, shape, timing) -> None:
        self.done += 1
        text = f"{shape.name}: {timing.latency_ms:.3g} ms"
        if self.bar is not None:
            self.bar.update(1, text)
        elif self.done >= self.next_note * self.total:
            self.next_note += 0.1
            info(f"profile: {self.done}/{self.total} measured (last: {origin} {text})")

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def _same(text: str | None) -> str | None:
    return text


def _clean(record: dict) -> dict:
    """NaN -> None (JSON has no NaN)."""
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in record.items()}
