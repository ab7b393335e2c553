"""Options and output helpers shared by the commands."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from collections.abc import Callable, Sequence

import click
import numpy as np

from lens_fast.errors import LensError

FORMATS = ("table", "json", "csv")


def model_options(f: Callable) -> Callable:
    """--tech, --alpha, --beta, --rtt-ms, --semantics, --profile, --wire-dtype."""
    opts = [
        click.option(
            "--tech", default="wifi", show_default=True, help="Radio technology: wifi, lte or 3g."
        ),
        click.option(
            "--alpha",
            type=float,
            default=None,
            help="Custom radio alpha (mW per Mbit/s); overrides --tech's.",
        ),
        click.option(
            "--beta", type=float, default=None, help="Custom radio beta (mW); overrides --tech's."
        ),
        click.option(
            "--rtt-ms",
            type=float,
            default=0.0,
            show_default=True,
            help="Round-trip time added to every option that transmits (native).",
        ),
        click.option(
            "--semantics",
            type=click.Choice(["native", "lens-dac21"]),
            default="native",
            show_default=True,
            help="Model semantics (DESIGN.md).",
        ),
        click.option(
            "--profile",
            default="builtin",
            show_default=True,
            help="Device: a profile table, a profile folder, builtin or builtin:tx2-cpu.",
        ),
        click.option(
            "--wire-dtype",
            type=click.Choice(["float32", "float16", "bfloat16", "int8"]),
            default="float32",
            show_default=True,
            help="Dtype of transmitted feature maps (native semantics).",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def source_options(f: Callable) -> Callable:
    """--arch-file / --random N --seed S, --encoding."""
    opts = [
        click.option(
            "--arch-file",
            type=click.Path(dir_okay=False),
            default=None,
            help="CSV or JSON of architectures (columns of the encoding).",
        ),
        click.option(
            "--random",
            "n_random",
            type=int,
            default=None,
            help="Score N architectures sampled uniformly from the space.",
        ),
        click.option("--seed", type=int, default=0, show_default=True, help="Seed of --random."),
        click.option(
            "--encoding",
            type=click.Choice(["native", "paper"]),
            default="native",
            show_default=True,
            help="Encoding of --arch-file.",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def format_option(f: Callable) -> Callable:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default="table",
        show_default=True,
        help="Output format on stdout.",
    )(f)


def load_batch(arch_file: str | None, n_random: int | None, seed: int, encoding: str) -> np.ndarray:
    """The native batch named by the source options."""
    from lens_fast.space.io import read_architectures
    from lens_fast.space.vgg import sample

    if (arch_file is None) == (n_random is None):
        raise click.UsageError("give exactly one of --arch-file FILE or --random N")
    if arch_file is not None:
        return read_architectures(arch_file, encoding)
    if n_random is None or n_random < 1:
        raise LensError(f"--random must be >= 1 architectures, got {n_random}")
    return sample(n_random, seed)


def performance_model(tech, alpha, beta, rtt_ms, semantics, profile, wire_dtype):
    """A `PerformanceModel` from the model options."""
    from lens_fast.network import radio
    from lens_fast.objectives import PerformanceModel

    rad = radio(tech, alpha, beta)
    return PerformanceModel(
        profile, radio=rad, semantics=semantics, rtt_ms=rtt_ms, wire_dtype=wire_dtype
    )


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.6g}"
    return str(value)


def render(records: Sequence[dict], fmt: str, columns: Sequence[str] | None = None) -> str:
    """Records as an aligned table, a JSON list, or CSV."""
    if fmt == "json":
        if not records:
            return "[]\n"
        return "[\n" + ",\n".join(json.dumps(r, allow_nan=False) for r in records) + "\n]\n"
    cols = list(columns or (records[0].keys() if records else []))
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=cols, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        return buf.getvalue()
    cells = [[_cell(r.get(c)) for c in cols] for r in records]
    widths = [max([len(c)] + [len(row[j]) for row in cells]) for j, c in enumerate(cols)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines) + "\n"


def emit(text: str) -> None:
    """Write data to stdout (a closed pipe ends quietly)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        sys.stderr.close()


def info(message: str) -> None:
    """A message on stderr."""
    click.echo(message, err=True)


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()
