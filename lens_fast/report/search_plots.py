"""Figures and tables of one or two search results (`lens-fast report`).

Written into one folder:

* ``pareto.png`` + ``fronts.csv``: error vs energy and error vs latency of every
  trial, the runs overlaid with distinct markers and their fronts as step lines (the
  paper's Fig. 6). Metrics are as deployed (best split); a Traditional run (all-edge
  search) has its front taken the paper's way (`lens_fast.search.pareto.paper_front`).
* ``hypervolume.png`` + ``hypervolume.csv``: the 3-D hypervolume of (error, latency
  ms, energy mJ) of the first i trials, i = 1..n, per run, with one reference point.
* ``thresholds.png`` + ``thresholds.csv``: how many trials meet error < e AND
  metric < x, for a small grid of e and x, per run (the paper's Fig. 7).
* ``summary.json``: the runs, the reference point, final hypervolumes, front sizes,
  the comparison of the two runs (as `lens-fast compare`) and the files written.

Figures are drawn on `matplotlib.figure.Figure` objects with the Agg canvas: no
pyplot state, no display needed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from lens_fast.errors import InputFileError, ParetoError
from lens_fast.search.compare import METRICS, UNITS, ResultSet, compare
from lens_fast.search.pareto import default_reference, hypervolume_trace, threshold_counts

STYLES: tuple[dict, ...] = (
    {"color": "tab:blue", "marker": "o"},
    {"color": "tab:orange", "marker": "^"},
)
TITLES = {"energy": "energy", "latency": "latency"}
QUANTILES = (0.25, 0.5, 0.75)  # of the pooled trials, for the default threshold grid


def _nice(value: float) -> float:
    """`value` rounded to two significant digits."""
    return float(f"{value:.2g}")


def _describe(run: ResultSet) -> str:
    if run.objective == "edge":
        return f"{run.label} (all-edge search, partitioned after)"
    if run.kind == "csv" and any(v is not None for v in run.deployed.values()):
        return f"{run.label} (partitioned columns)"
    return run.label


def _labels(runs: Sequence[ResultSet]) -> list[str]:
    labels = [_describe(r) for r in runs]
    if len(set(labels)) < len(labels):
        labels = [f"{'AB'[i]}: {lab}" for i, lab in enumerate(labels)]
    return labels


def _out_dir(out: str | Path) -> Path:
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise InputFileError(f"--out must be a folder, got the file {path}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputFileError(f"cannot create folder {path}: {exc.strerror or exc}") from exc
    return path


def _canvas(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    return FigureCanvasAgg(fig)


def _save(fig, path: Path) -> str:
    _canvas(fig)
    fig.savefig(path, dpi=130)
    return path.name


# ------------------------------------------------------------------ reference
def hypervolume_reference(runs: Sequence[ResultSet]) -> tuple[np.ndarray, str]:
    """(error, latency ms, energy mJ) reference of the hypervolume traces, and its source.

    The runs' manifest reference point when they all carry the same one, else 1.1 x
    the component-wise maximum over all their trials (so every trial counts).
    """
    refs = [r.reference_point for r in runs]
    if refs[0] is not None and all(ref == refs[0] for ref in refs):
        return np.asarray(refs[0], dtype=np.float64), "the manifest's reference_point"
    why = "no manifest reference point" if any(r is None for r in refs) else "runs differ"
    ref = default_reference(*[r.objectives() for r in runs])
    return ref, f"1.1 x the maximum over all trials ({why})"


# ------------------------------------------------------------------ thresholds
def threshold_grid(runs: Sequence[ResultSet], metric: str) -> tuple[list[float], list[float]]:
    """Default thresholds: error and metric at the 25/50/75 % quantiles of the pooled trials."""
    errors = np.concatenate([r.error for r in runs])
    values = np.concatenate([r.metric(metric) for r in runs])
    e = sorted({_nice(v) for v in np.quantile(errors, QUANTILES)})
    x = sorted({_nice(v) for v in np.quantile(values, QUANTILES)})
    return e, x


def threshold_records(
    runs: Sequence[ResultSet],
    error_lt: dict[str, list[float]],
    metric_lt: dict[str, list[float]],
) -> list[dict]:
    """Rows (run, metric, error_lt, metric_lt, unit, count, share_pct): trials with
    error < error_lt AND metric < metric_lt (deployed metric), per run."""
    records = []
    for m in METRICS:
        grid = [(e, x) for e in error_lt[m] for x in metric_lt[m]]
        if not grid:
            continue
        thr = np.array([[e, x] for e, x in grid], dtype=np.float64)
        for run, label in zip(runs, _labels(runs), strict=True):
            counts = threshold_counts(np.column_stack([run.error, run.metric(m)]), thr)
            for (e, x), count in zip(grid, counts.tolist(), strict=True):
                records.append(
                    {
                        "run": label,
                        "metric": m,
                        "error_lt": e,
                        "metric_lt": x,
                        "unit": UNITS[m],
                        "count": int(count),
                        "share_pct": 100.0 * count / run.n,
                    }
                )
    return records


# ------------------------------------------------------------------ figures
def plot_pareto(runs: Sequence[ResultSet], path: Path) -> str:
    """Error (%) vs energy (mJ) and vs latency (ms): trials, fronts as step lines."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 5.6), layout="constrained")
    axes = fig.subplots(1, 2)
    for ax, m in zip(axes, METRICS, strict=True):
        lo, hi = np.inf, 0.0
        for run, label, style in zip(runs, _labels(runs), STYLES, strict=False):
            values = run.metric(m)
            front = run.front(m)
            lo, hi = min(lo, float(values.min())), max(hi, float(values.max()))
            ax.scatter(
                100 * run.error,
                values,
                s=12,
                alpha=0.3,
                color=style["color"],
                marker=style["marker"],
                linewidths=0,
                label=f"{label}: trials ({run.n})",
            )
            # a 2-D minimisation front: hold each metric value until the next error
            xs = np.append(100 * front[:, 0], 100 * run.error.max())
            ys = np.append(front[:, 1], front[-1, 1])
            ax.step(xs, ys, where="post", color=style["color"], linewidth=1.6)
            ax.scatter(
                100 * front[:, 0],
                front[:, 1],
                s=42,
                color=style["color"],
                marker=style["marker"],
                edgecolors="black",
                linewidths=0.7,
                zorder=3,
                label=f"{label}: Pareto front ({len(front)})",
            )
        if lo > 0 and hi / lo > 30:
            ax.set_yscale("log")
        ax.set_xlabel(f"{error_label(runs)} (%)")
        ax.set_ylabel(f"{TITLES[m]} at the best split ({UNITS[m]})")
        ax.set_title(f"{error_label(runs).capitalize()} vs {TITLES[m]}")
        ax.grid(True, which="major", alpha=0.3)
    # Fronts lie in the lower left (both objectives minimised): the legend goes below.
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=2, fontsize=8)
    fig.suptitle("Pareto fronts (both objectives minimised; step lines bound the dominated region)")
    return _save(fig, path)


def plot_hypervolume(
    runs: Sequence[ResultSet], traces: Sequence[np.ndarray], ref: np.ndarray, source: str, path
) -> str:
    """Hypervolume of the first i trials vs i, per run."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.subplots()
    for run, label, style, trace in zip(runs, _labels(runs), STYLES, traces, strict=False):
        ax.plot(
            np.arange(1, run.n + 1),
            trace,
            color=style["color"],
            linewidth=1.8,
            label=f"{label} (final {trace[-1]:.4g})",
        )
    ax.set_xlabel("evaluation (trials in order)")
    ax.set_ylabel("hypervolume (error fraction × ms × mJ)")
    ax.set_title(
        "Hypervolume per evaluation: (error, latency, energy) at the best split\n"
        f"reference: error {ref[0]:.4g}, {ref[1]:.4g} ms, {ref[2]:.4g} mJ\n({source})",
        fontsize=10,
    )
    ax.set_ylim(bottom=0)
    ax.set_xlim(left=1)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    return _save(fig, path)


def plot_thresholds(
    records: Sequence[dict], labels: Sequence[str], path: Path, error_name: str = "test error"
) -> str:
    """Grouped bars: trials meeting error < e AND metric < x, per run (Fig. 7)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(13, 5), layout="constrained")
    axes = fig.subplots(1, 2)
    width = 0.8 / max(1, len(labels))
    for ax, m in zip(axes, METRICS, strict=True):
        rows = [r for r in records if r["metric"] == m]
        grid = sorted({(r["error_lt"], r["metric_lt"]) for r in rows})
        pos = np.arange(len(grid))
        for j, (label, style) in enumerate(zip(labels, STYLES, strict=False)):
            by_cell = {
                (r["error_lt"], r["metric_lt"]): r["count"] for r in rows if r["run"] == label
            }
            heights = [by_cell.get(cell, 0) for cell in grid]
            bars = ax.bar(
                pos + (j - (len(labels) - 1) / 2) * width,
                heights,
                width,
                color=style["color"],
                label=label,
            )
            ax.bar_label(bars, fontsize=7, padding=1)
        ax.set_xticks(
            pos,
            [f"err < {100 * e:.3g}%\n{m[0].upper()} < {x:.3g} {UNITS[m]}" for e, x in grid],
            fontsize=7,
        )
        ax.set_ylabel("trials meeting both thresholds")
        ax.set_title(f"Trials with {error_name} < e and {TITLES[m]} < x ({UNITS[m]})")
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle("Threshold counts (metrics at the best split)")
    return _save(fig, path)


# ------------------------------------------------------------------ the report
def _write_csv(records: Sequence[dict], path: Path) -> str:
    import pandas as pd

    pd.DataFrame(list(records)).to_csv(path, index=False)
    return path.name


def error_label(runs) -> str:
    """What the error axis is: a synthetic run's error is a test fixture, not accuracy."""
    names = {r.manifest.get("config", {}).get("error", {}).get("name") for r in runs}
    if names == {"synthetic"}:
        return "synthetic error (a test fixture)"
    if "synthetic" in names:
        return "error (synthetic for some runs)"
    return "test error"


def write_report(
    runs: Sequence[ResultSet],
    out: str | Path,
    error_lt: Sequence[float] = (),
    energy_lt: Sequence[float] = (),
    latency_lt: Sequence[float] = (),
) -> dict:
    """Write the figures, tables and ``summary.json`` of one or two runs into `out`.

    `error_lt` (fractions), `energy_lt` (mJ), `latency_lt` (ms): threshold grid;
    empty ones default to `threshold_grid`. Returns the summary.
    """
    if not 1 <= len(runs) <= 2:
        raise ParetoError(f"a report takes 1 or 2 runs, got {len(runs)}")
    folder = _out_dir(out)
    labels = _labels(runs)
    files: list[str] = []

    # Pareto fronts
    files.append(plot_pareto(runs, folder / "pareto.png"))
    front_rows = []
    for run, label in zip(runs, labels, strict=True):
        for m in METRICS:
            for e, v in run.front(m).tolist():
                front_rows.append({"run": label, "metric": m, "unit": UNITS[m], "error": e, m: v})
    files.append(_write_csv(front_rows, folder / "fronts.csv"))

    # hypervolume per evaluation
    ref, source = hypervolume_reference(runs)
    traces = [hypervolume_trace(run.objectives(), ref) for run in runs]
    files.append(plot_hypervolume(runs, traces, ref, source, folder / "hypervolume.png"))
    hv_rows = [
        {"run": label, "evaluation": i + 1, "hypervolume": float(v)}
        for label, trace in zip(labels, traces, strict=True)
        for i, v in enumerate(trace)
    ]
    files.append(_write_csv(hv_rows, folder / "hypervolume.csv"))

    # threshold counts
    e_grid: dict[str, list[float]] = {}
    x_grid: dict[str, list[float]] = {}
    given = {"energy": list(energy_lt), "latency": list(latency_lt)}
    for m in METRICS:
        default_e, default_x = threshold_grid(runs, m)
        e_grid[m] = sorted(error_lt) if error_lt else default_e
        x_grid[m] = sorted(given[m]) if given[m] else default_x
    records = threshold_records(runs, e_grid, x_grid)
    files.append(_write_csv(records, folder / "thresholds.csv"))
    files.append(plot_thresholds(records, labels, folder / "thresholds.png", error_label(runs)))

    summary: dict = {
        "runs": [
            {
                "label": label,
                "source": run.source,
                "objective": run.objective,
                "trials": run.n,
                "best_error": float(run.error.min()),
                "front_sizes": {m: len(run.front(m)) for m in METRICS},
                "final_hypervolume": float(trace[-1]),
            }
            for run, label, trace in zip(runs, labels, traces, strict=True)
        ],
        "hypervolume_reference": {
            "point": ref.tolist(),
            "objectives": ["error", "latency_ms", "energy_mj"],
            "source": source,
        },
        "thresholds": {"error_lt": e_grid, "metric_lt": x_grid},
    }
    if len(runs) == 2:
        result = compare(runs[0], runs[1])
        summary["comparison"] = {
            m: {k: v for k, v in r.items() if k not in ("front_a", "front_b")}
            for m, r in result.items()
        }
    files.append("summary.json")
    summary["files"] = files
    (folder / "summary.json").write_text(json.dumps(summary, indent=2, allow_nan=False) + "\n")
    return summary
