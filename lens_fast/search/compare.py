"""Result sets of searches (run folders or CSV files) and the paper's A-vs-B comparison.

A result set is read from

* a run folder (`lens_fast.search.store`): error, ``latency_ms``, ``energy_mj``. A run
  whose ``config["objective"]`` is ``"edge"`` (the Traditional baseline) searched on
  the all-edge metrics ``edge_latency_ms``/``edge_energy_mj``; its front is taken on
  those and re-scored with the deployed ``latency_ms``/``energy_mj`` (the paper's
  way, `lens_fast.search.pareto.paper_front`);
* a CSV file with columns ``error, energy, latency`` (mJ, ms), optionally
  ``energy_partitioned, latency_partitioned`` (then ``energy``/``latency`` are the
  all-edge values and the front is taken the paper's way).

`compare` returns, per metric, the JSON of `lens-fast compare`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lens_fast.errors import InputFileError, RunStoreError
from lens_fast.search.pareto import compare_fronts, default_reference, run_front

METRICS: tuple[str, ...] = ("energy", "latency")
UNITS: dict[str, str] = {"energy": "mJ", "latency": "ms"}
# index of each metric in a manifest's reference_point [error, latency_ms, energy_mj]
REF_INDEX: dict[str, int] = {"latency": 1, "energy": 2}
CSV_REQUIRED: tuple[str, ...] = ("error", "energy", "latency")


@dataclass
class ResultSet:
    """The trials of one run folder or CSV file, in trial order.

    `error`: `n` float64 in [0, 1]. `searched[m]`: `n` float64, the metric the search
    minimised (all-edge for objective "edge"); `deployed[m]`: `n`, the metric at the
    best split, or None when it is the searched one. m in ("energy", "latency"),
    energy in mJ, latency in ms.
    """

    label: str
    source: str
    kind: str  # "run" or "csv"
    objective: str  # "lens", "edge" (all-edge search, partitioned after) or "csv"
    error: np.ndarray
    searched: dict[str, np.ndarray]
    deployed: dict[str, np.ndarray | None]
    reference_point: list[float] | None = None  # [error, latency_ms, energy_mj]
    manifest: dict = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.error.shape[0])

    def metric(self, name: str) -> np.ndarray:
        """`n` float64: the metric as deployed (best split)."""
        dep = self.deployed[name]
        return self.searched[name] if dep is None else dep

    def points(self, name: str) -> np.ndarray:
        """`n x 2` (error, metric as searched)."""
        return np.column_stack([self.error, self.searched[name]])

    def front(self, name: str) -> np.ndarray:
        """The 2-D front (error, deployed metric), error ascending: `m x 2`."""
        return run_front(self.points(name), self.deployed[name], self.label)

    def objectives(self) -> np.ndarray:
        """`n x 3` (error, latency ms, energy mJ) as deployed, in trial order."""
        return np.column_stack([self.error, self.metric("latency"), self.metric("energy")])


# ------------------------------------------------------------------------ loading
def load_result_set(source: str | Path, label: str | None = None) -> ResultSet:
    """A run folder or a CSV file (see the module docstring)."""
    path = Path(source)
    if path.is_dir():
        return _load_run(path, label or path.name)
    if not path.exists():
        raise InputFileError(f"no run folder or CSV file at {path}")
    return _load_csv(path, label or path.stem)


def _finite_column(values: object, name: str, where: str) -> np.ndarray:
    import pandas as pd

    col = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(col)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raw = pd.Series(values).iloc[row]
        raise InputFileError(
            f"{where}: column {name!r} must hold finite numbers, got {raw!r} at row {row + 1}"
        )
    return col


def _reference_point(manifest: dict, where: str) -> list[float] | None:
    ref = manifest.get("config", {}).get("reference_point")
    if ref is None:
        return None
    arr = np.asarray(ref, dtype=object)
    ok = arr.shape == (3,) and all(
        isinstance(v, int | float) and not isinstance(v, bool) and np.isfinite(v) for v in arr
    )
    if not ok:
        raise RunStoreError(
            f"{where}: config reference_point must be 3 finite numbers "
            f"[error, latency_ms, energy_mj], got {ref!r}"
        )
    return [float(v) for v in arr]


def _load_run(folder: Path, label: str) -> ResultSet:
    from lens_fast.search.store import load_trials_frame

    frame = load_trials_frame(folder)
    manifest = frame.attrs["manifest"]
    if len(frame) == 0:
        raise RunStoreError(f"{folder} holds no trials yet, expected at least 1")
    objective = manifest.get("config", {}).get("objective", "lens")
    if objective not in ("lens", "edge"):
        raise RunStoreError(f"{folder}: objective {objective!r}, expected 'lens' or 'edge'")
    where = str(folder)
    error = _finite_column(frame["error"], "error", where)
    latency = _finite_column(frame["latency_ms"], "latency_ms", where)
    energy = _finite_column(frame["energy_mj"], "energy_mj", where)
    if objective == "edge":
        searched = {
            "energy": _finite_column(frame["edge_energy_mj"], "edge_energy_mj", where),
            "latency": _finite_column(frame["edge_latency_ms"], "edge_latency_ms", where),
        }
        deployed: dict[str, np.ndarray | None] = {"energy": energy, "latency": latency}
    else:
        searched = {"energy": energy, "latency": latency}
        deployed = {"energy": None, "latency": None}
    return ResultSet(
        label=label,
        source=where,
        kind="run",
        objective=objective,
        error=error,
        searched=searched,
        deployed=deployed,
        reference_point=_reference_point(manifest, str(folder / "manifest.json")),
        manifest=manifest,
    )


def _load_csv(path: Path, label: str) -> ResultSet:
    import pandas as pd

    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputFileError(f"cannot read {path} as CSV: {reason}") from exc
    missing = [c for c in CSV_REQUIRED if c not in frame.columns]
    if missing:
        raise InputFileError(
            f"{path}: missing column {missing[0]!r}, expected columns "
            f"{', '.join(CSV_REQUIRED)} (and optionally energy_partitioned, latency_partitioned)"
        )
    if len(frame) == 0:
        raise InputFileError(f"{path}: no rows, expected at least 1")
    where = str(path)
    searched = {m: _finite_column(frame[m], m, where) for m in METRICS}
    deployed: dict[str, np.ndarray | None] = {}
    for m in METRICS:
        col = f"{m}_partitioned"
        deployed[m] = _finite_column(frame[col], col, where) if col in frame.columns else None
    return ResultSet(
        label=label,
        source=where,
        kind="csv",
        objective="csv",
        error=_finite_column(frame["error"], "error", where),
        searched=searched,
        deployed=deployed,
    )


# ------------------------------------------------------------------------ comparing
def shared_reference(a: ResultSet, b: ResultSet) -> list[float] | None:
    """Both manifests' reference point when both carry the same one, else None."""
    if a.reference_point is None or b.reference_point is None:
        return None
    if a.reference_point != b.reference_point:
        return None
    return a.reference_point


def compare(a: ResultSet, b: ResultSet, metrics: tuple[str, ...] = METRICS) -> dict:
    """The JSON of `lens-fast compare`: per metric, dominance %, shares, HVs and fronts.

    Reference point of the hypervolumes: the runs' shared manifest reference projected
    on (error, metric), else 1.1 x the component-wise maximum over both fronts;
    ``reference`` says which.
    """
    shared = shared_reference(a, b)
    out: dict[str, dict] = {}
    for m in metrics:
        front_a, front_b = a.front(m), b.front(m)
        if shared is not None:
            ref = np.array([shared[0], shared[REF_INDEX[m]]])
            source = "manifests (config reference_point, shared by both runs)"
        else:
            ref = default_reference(front_a, front_b)
            source = "1.1 x the maximum over both fronts"
        cmp = compare_fronts(front_a, front_b, ref=ref)
        result = cmp.to_dict()
        result["reference"] = {"point": ref.tolist(), "source": source}
        out[m] = result
    return out


def summary_records(result: dict) -> list[dict]:
    """One table row per metric of a `compare` result."""
    rows = []
    for m, r in result.items():
        rows.append(
            {
                "metric": f"{m} ({UNITS[m]})",
                "a_dominates_b_pct": r["a_dominates_b_pct"],
                "b_dominates_a_pct": r["b_dominates_a_pct"],
                "a_share_of_combined_pct": r["a_share_of_combined_pct"],
                "hv_a": r["hv_a"],
                "hv_b": r["hv_b"],
                "front_a": len(r["front_a"]),
                "front_b": len(r["front_b"]),
                "reference": "x".join(f"{v:.6g}" for v in r["reference"]["point"]),
            }
        )
    return rows
