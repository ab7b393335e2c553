"""`lens-fast compare` and `lens-fast report`: Pareto comparisons and figures of search runs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from lens_fast.cli.common import emit, format_option, info, render

SUMMARY_COLUMNS = (
    "metric",
    "a_dominates_b_pct",
    "b_dominates_a_pct",
    "a_share_of_combined_pct",
    "hv_a",
    "hv_b",
    "front_a",
    "front_b",
    "reference",
)


def _floats(text: str | None, option: str) -> list[float]:
    if not text:
        return []
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError as exc:
        raise click.BadParameter(
            f"expected comma-separated numbers, got {text!r}", param_hint=option
        ) from exc
    if not values:
        raise click.BadParameter(
            f"expected comma-separated numbers, got {text!r}", param_hint=option
        )
    return values


def _compact_pairs(text: str) -> str:
    """Indented JSON with every list of plain numbers on one line ([error, metric])."""
    number = r"-?[0-9][0-9.eE+-]*"
    return re.sub(
        rf"\[\s*({number}(?:,\s*{number})*)\s*\]",
        lambda m: "[" + ", ".join(v.strip() for v in m.group(1).split(",")) + "]",
        text,
    )


@click.command()
@click.argument("a", type=click.Path())
@click.argument("b", type=click.Path())
@click.option(
    "--metric",
    type=click.Choice(["energy", "latency", "both"]),
    default="both",
    show_default=True,
    help="Second objective of the 2-D fronts (error, metric).",
)
@format_option
def compare(a, b, metric, fmt):
    """Compare the Pareto fronts of A and B (run folders or CSV files).

    CSV files need columns error, energy (mJ), latency (ms); optional
    energy_partitioned and latency_partitioned make energy/latency the all-edge
    values and take the front the paper's way. Reports the % of B's front dominated
    by A's, the converse, A's share of the front of both, and both hypervolumes.
    """
    from lens_fast.search.compare import METRICS, compare, load_result_set, summary_records

    run_a = load_result_set(a)
    run_b = load_result_set(b)
    metrics = METRICS if metric == "both" else (metric,)
    result = compare(run_a, run_b, metrics)
    sources = {r["reference"]["source"] for r in result.values()}
    info(f"compare: A = {run_a.source} ({run_a.n} trials), B = {run_b.source} ({run_b.n} trials)")
    info(f"hypervolume reference: {'; '.join(sorted(sources))}")
    if fmt == "json":
        emit(_compact_pairs(json.dumps(result, indent=2, allow_nan=False)) + "\n")
    else:
        emit(render(summary_records(result), fmt, SUMMARY_COLUMNS))


@click.command()
@click.argument("run", type=click.Path())
@click.argument("run2", type=click.Path(), required=False)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    required=True,
    help="Folder for the figures (PNG), tables (CSV) and summary.json.",
)
@click.option("--error-lt", default=None, help="Error thresholds as fractions, e.g. 0.2,0.3.")
@click.option("--energy-lt", default=None, help="Energy thresholds in mJ, e.g. 50,100.")
@click.option("--latency-lt", default=None, help="Latency thresholds in ms, e.g. 20,40.")
def report(run, run2, out_dir, error_lt, energy_lt, latency_lt):
    """Pareto plots, hypervolume per evaluation and threshold counts of one or two runs.

    RUN and RUN2 are run folders (or CSV files as for `compare`). Writes pareto.png,
    fronts.csv, hypervolume.png, hypervolume.csv, thresholds.png, thresholds.csv and
    summary.json into --out, and prints the summary's path.
    """
    from lens_fast.report.search_plots import write_report
    from lens_fast.search.compare import load_result_set

    runs = [load_result_set(run)] + ([load_result_set(run2)] if run2 else [])
    summary = write_report(
        runs,
        out_dir,
        error_lt=_floats(error_lt, "--error-lt"),
        energy_lt=_floats(energy_lt, "--energy-lt"),
        latency_lt=_floats(latency_lt, "--latency-lt"),
    )
    for r in summary["runs"]:
        info(
            f"{r['label']}: {r['trials']} trials, fronts {r['front_sizes']['energy']} (energy) / "
            f"{r['front_sizes']['latency']} (latency), final hypervolume {r['final_hypervolume']:.6g}"
        )
    info(f"report: wrote {', '.join(summary['files'])} into {out_dir}")
    emit(f"{Path(out_dir) / 'summary.json'}\n")
