"""`lens-fast thresholds | regions | simulate | analyze`: the runtime side of LENS.

Every command takes one model SOURCE:

* ``--arch-file FILE --row I [--encoding native|paper]``: an architecture of the
  search space (row I, 0-based); ``--all`` instead of ``--row`` runs `thresholds`
  and `regions` over every row;
* ``--torchvision NAME``: a torchvision classifier (no weights), traced with torch.fx
  and costed by ``--profile``;
* ``--measured FILE --model M --processor P [--power-w W]``: a per-layer
  measurement table.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

import click

from lens_fast.cli.common import emit, format_option, info, model_options, render

METRIC_CHOICE = click.Choice(["latency", "energy"])


def source_options(allow_all: bool) -> Callable[[Callable], Callable]:
    """The model SOURCE options (and --all where a command runs over a whole file)."""

    def decorate(f: Callable) -> Callable:
        opts = [
            click.option(
                "--arch-file",
                type=click.Path(dir_okay=False),
                default=None,
                help="SOURCE: architectures of the search space (CSV/JSON); pick one with --row.",
            ),
            click.option("--row", type=int, default=None, help="Row of --arch-file (0-based)."),
            click.option(
                "--encoding",
                type=click.Choice(["native", "paper"]),
                default="native",
                show_default=True,
                help="Encoding of --arch-file.",
            ),
            click.option(
                "--torchvision",
                "tv_name",
                default=None,
                help="SOURCE: a torchvision classification model (alexnet, vgg16, resnet18, ...).",
            ),
            click.option(
                "--measured",
                type=click.Path(dir_okay=False),
                default=None,
                help="SOURCE: a per-layer measurement table (model,processor,layer,"
                "output_bytes,latency_ms).",
            ),
            click.option("--model", "measured_model", default=None, help="Model of --measured."),
            click.option("--processor", default=None, help="Processor of --measured."),
            click.option(
                "--power-w",
                type=float,
                default=None,
                help="Board power for --measured (W); energy = latency x power.",
            ),
        ]
        if allow_all:
            opts.append(
                click.option(
                    "--all", "all_rows", is_flag=True, help="Every row of --arch-file (batch)."
                )
            )
        for opt in reversed(opts):
            f = opt(f)
        return f

    return decorate


@dataclass
class Source:
    """What the source options named, with the model options."""

    arch_file: str | None
    row: int | None
    encoding: str
    tv_name: str | None
    measured: str | None
    measured_model: str | None
    processor: str | None
    power_w: float | None
    all_rows: bool
    tech: str
    alpha: float | None
    beta: float | None
    rtt_ms: float
    semantics: str
    profile: str
    wire_dtype: str

    @classmethod
    def from_kwargs(cls, kw: dict) -> Source:
        kw.setdefault("all_rows", False)
        return cls(**{k: kw.pop(k) for k in cls.__dataclass_fields__})

    def check(self) -> None:
        given = [
            name
            for name, v in (
                ("--arch-file", self.arch_file),
                ("--torchvision", self.tv_name),
                ("--measured", self.measured),
            )
            if v is not None
        ]
        if len(given) != 1:
            raise click.UsageError(
                "give exactly one SOURCE: --arch-file FILE --row I, --torchvision NAME, "
                f"or --measured FILE --model M --processor P (got {', '.join(given) or 'none'})"
            )
        if self.arch_file is not None:
            if self.all_rows and self.row is not None:
                raise click.UsageError("give --row I or --all, not both")
            if not self.all_rows and self.row is None:
                raise click.UsageError("--arch-file needs --row I (or --all)")
        elif self.all_rows:
            raise click.UsageError("--all applies to --arch-file only")
        if self.measured is not None and (self.measured_model is None or self.processor is None):
            raise click.UsageError("--measured needs --model M and --processor P")
        if self.arch_file is None and self.semantics != "native":
            raise click.UsageError(
                f"--semantics {self.semantics} applies to --arch-file only (rows of the VGG space)"
            )
        if self.measured is not None and self.profile != "builtin":
            raise click.UsageError(
                "--profile does not apply to --measured (latencies are measured)"
            )

    def performance_model(self):
        from lens_fast.cli.common import performance_model

        return performance_model(
            self.tech,
            self.alpha,
            self.beta,
            self.rtt_ms,
            self.semantics,
            self.profile,
            self.wire_dtype,
        )

    def batch(self):
        from lens_fast.space.io import read_architectures

        assert self.arch_file is not None
        return read_architectures(self.arch_file, self.encoding)

    def model_profile(self):
        """The `ModelProfile` of a single-model source."""
        from lens_fast.config import WIRE_DTYPE_BYTES
        from lens_fast.network import check_rtt, radio
        from lens_fast.runtime import sources

        if self.arch_file is not None:
            assert self.row is not None
            native = sources.read_row(self.arch_file, self.row, self.encoding)
            label = f"row {self.row} of {self.arch_file}"
            return sources.from_architecture(self.performance_model(), native, label)
        rad = radio(self.tech, self.alpha, self.beta)
        rtt = check_rtt(self.rtt_ms)
        wire = WIRE_DTYPE_BYTES[self.wire_dtype]
        if self.measured is not None:
            assert self.measured_model is not None and self.processor is not None
            return sources.from_measured(
                self.measured,
                self.measured_model,
                self.processor,
                radio=rad,
                power_w=self.power_w,
                rtt_ms=rtt,
                wire_bytes=wire,
            )
        from lens_fast.device.profile import load_device
        from lens_fast.runtime.tracing import from_torchvision

        assert self.tv_name is not None
        return from_torchvision(
            self.tv_name, load_device(self.profile), radio=rad, rtt_ms=rtt, wire_bytes=wire
        )


def _describe(profile, opts) -> None:
    info(
        f"{profile.name}: {len(profile.layer_names)} layers, {len(opts)} deployment options; "
        f"radio {profile.radio.name} (alpha {profile.radio.alpha_mw_per_mbps:g} mW/Mbps, "
        f"beta {profile.radio.beta_mw:g} mW), rtt {profile.rtt_ms:g} ms"
    )


def _envelopes(profile, opts, metrics):
    from lens_fast.runtime.thresholds import envelope

    return {m: envelope(opts, m, profile.radio) for m in metrics}


def _emit_json(obj) -> None:
    emit(json.dumps(obj, indent=1, allow_nan=False) + "\n")


def _plot_path(path: str | None) -> str | None:
    if path is not None and not path.lower().endswith(".png"):
        raise click.UsageError(f"--plot must name a .png file, got {path!r}")
    return path


# ----------------------------------------------------------------- thresholds


@click.command()
@source_options(allow_all=True)
@click.option(
    "--metric",
    type=click.Choice(["latency", "energy", "both"]),
    default="both",
    show_default=True,
)
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="With --all: write the envelopes (.npz CSR arrays, .csv or .parquet).",
)
@model_options
@format_option
def thresholds(metric, out_path, fmt, **kw):
    """Exact tu intervals (Mbit/s) where each deployment option wins."""
    src = Source.from_kwargs(kw)
    src.check()
    metrics = ("latency", "energy") if metric == "both" else (metric,)
    if src.all_rows:
        _thresholds_all(src, metrics, out_path, fmt)
        return
    if out_path is not None:
        raise click.UsageError("--out applies to --all (a single model prints to stdout)")
    profile = src.model_profile()
    opts = profile.options()
    _describe(profile, opts)
    envs = _envelopes(profile, opts, metrics)
    if fmt == "json":
        _emit_json({m: envs[m].records() for m in metrics})
        return
    rows = []
    for m in metrics:
        for rec in envs[m].records():
            tu_max = float("inf") if rec["tu_max"] is None else rec["tu_max"]
            rows.append({"metric": m, **rec, "tu_max": tu_max})
    emit(render(rows, fmt, ["metric", "option", "tu_min", "tu_max"]))


def _thresholds_all(src: Source, metrics, out_path, fmt) -> None:
    from lens_fast.runtime.thresholds import batch_envelopes

    if out_path is None:
        raise click.UsageError("--all needs --out FILE (.npz, .csv or .parquet)")
    model = src.performance_model()
    batch = src.batch()
    t0 = time.perf_counter()
    envs = batch_envelopes(model, batch)
    elapsed = time.perf_counter() - t0
    meta = {
        "arch_file": str(src.arch_file),
        "encoding": src.encoding,
        "semantics": src.semantics,
        "tech": model.radio.name,
        "alpha": model.radio.alpha_mw_per_mbps,
        "beta": model.radio.beta_mw,
        "rtt_ms": model.rtt_ms,
        "device": model.device.name,
        "wire_dtype": src.wire_dtype,
        "n": envs.n,
    }
    path = envs.save(out_path, meta)
    rows = [
        {"metric": m, "option": name, "candidates": count}
        for m in metrics
        for name, count in envs.option_counts(m).items()
    ]
    info(
        f"thresholds: {envs.n} candidates, latency and energy envelopes in {elapsed:.3f} s "
        f"(row costs included; file writing excluded); wrote {path}"
    )
    if fmt == "json":
        _emit_json({m: envs.option_counts(m) for m in metrics})
    else:
        emit(render(rows, fmt, ["metric", "option", "candidates"]))


# -------------------------------------------------------------------- regions


@click.command()
@source_options(allow_all=True)
@click.option(
    "--countries",
    type=click.Path(dir_okay=False),
    required=True,
    help="CSV region,country,upload_mbps.",
)
@click.option("--plot", "plot_path", default=None, help="Write a PNG: options per region.")
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="With --all: write the per-country winners (.csv or .json).",
)
@model_options
@format_option
def regions(countries, plot_path, out_path, fmt, **kw):
    """The winning latency and energy options at each country's upload throughput."""
    from lens_fast.runtime.regions import batch_regions, read_countries
    from lens_fast.runtime.regions import regions as country_table

    src = Source.from_kwargs(kw)
    src.check()
    plot_path = _plot_path(plot_path)
    table = read_countries(countries)
    if src.all_rows:
        if plot_path is not None:
            raise click.UsageError("--plot applies to a single model, not --all")
        model = src.performance_model()
        batch = src.batch()
        t0 = time.perf_counter()
        per_country, wins = batch_regions(model, batch, table)
        elapsed = time.perf_counter() - t0
        if out_path is not None:
            _write_records(out_path, per_country)
        info(
            f"regions: {batch.shape[0]} candidates x {len(table)} countries in {elapsed:.3f} s; "
            f"{len(wins)} candidates win somewhere" + (f"; wrote {out_path}" if out_path else "")
        )
        emit(render(wins, fmt, ["row", "latency_countries", "energy_countries"]))
        return
    if out_path is not None:
        raise click.UsageError("--out applies to --all (a single model prints to stdout)")
    profile = src.model_profile()
    opts = profile.options()
    _describe(profile, opts)
    envs = _envelopes(profile, opts, ("latency", "energy"))
    records = country_table(opts, envs, table, profile.radio)
    emit(render(records, fmt, list(records[0])))
    if plot_path is not None:
        from lens_fast.report.runtime_plots import plot_regions

        info(f"wrote {plot_regions(records, envs, profile.name, plot_path)}")


def _write_records(path: str, records: list[dict]) -> None:
    from pathlib import Path

    from lens_fast.errors import InputFileError

    target = Path(path)
    fmt = "json" if target.suffix.lower() == ".json" else "csv"
    try:
        target.write_text(render(records, fmt, list(records[0]) if records else None))
    except OSError as exc:
        raise InputFileError(f"cannot write {target}: {exc.strerror or exc}") from exc


# ------------------------------------------------------------------- simulate


@click.command()
@source_options(allow_all=False)
@click.option("--trace", "trace_path", type=click.Path(dir_okay=False), required=True,
              help="CSV of upload throughputs (Mbit/s), one sample per row.")  # fmt: skip
@click.option("--column", default=None, help="Trace column (default: the first *mbps* one).")
@click.option("--metric", type=METRIC_CHOICE, default="latency", show_default=True)
@click.option(
    "--tracker",
    type=click.Choice(["current", "previous"]),
    default="current",
    show_default=True,
    help="current: knows each sample's tu; previous: uses the last measured one.",
)
@click.option("--plot", "plot_path", default=None, help="Write a PNG (the paper's Fig. 8).")
@model_options
@format_option
def simulate(trace_path, column, metric, tracker, plot_path, fmt, **kw):
    """Replay a throughput trace: fixed options against switching at the thresholds."""
    from lens_fast.runtime.simulate import read_trace
    from lens_fast.runtime.simulate import simulate as replay

    src = Source.from_kwargs(kw)
    src.check()
    plot_path = _plot_path(plot_path)
    tu, column = read_trace(trace_path, column)
    profile = src.model_profile()
    opts = profile.options()
    _describe(profile, opts)
    env = _envelopes(profile, opts, (metric,))[metric]
    sim = replay(opts, env, tu, profile.radio, tracker)
    info(
        f"trace {trace_path} column {column}: {tu.shape[0]} samples, "
        f"{sim.switches} switches of the {tracker} tracker"
    )
    if fmt == "json":
        _emit_json(sim.to_json())
    else:
        emit(render(sim.records(), fmt))
    if plot_path is not None:
        from lens_fast.report.runtime_plots import plot_simulation

        info(f"wrote {plot_simulation(sim, env, profile.name, column, plot_path)}")


# -------------------------------------------------------------------- analyze


@click.command()
@source_options(allow_all=False)
@click.option("--plot", "plot_path", default=None, help="Write a PNG (Fig. 1 and Fig. 2).")
@model_options
@format_option
def analyze(plot_path, fmt, **kw):
    """Per-layer output sizes, costs and viable splits; options' cost against tu."""
    from lens_fast.runtime.analyze import layer_records, option_lines

    src = Source.from_kwargs(kw)
    src.check()
    plot_path = _plot_path(plot_path)
    profile = src.model_profile()
    opts = profile.options()
    _describe(profile, opts)
    layers = layer_records(profile)
    if fmt == "json":
        _emit_json(
            {
                "model": profile.name,
                "input_bytes": int(profile.input_bytes),
                "layers": layers,
                "options": option_lines(profile),
            }
        )
    else:
        emit(render(layers, fmt))
    if plot_path is not None:
        from lens_fast.report.runtime_plots import plot_analysis

        envs = _envelopes(profile, opts, ("latency", "energy"))
        info(f"wrote {plot_analysis(profile, opts, envs, plot_path)}")
