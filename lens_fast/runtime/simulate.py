"""Trace replay: fixed deployment options against a tracker that switches at thresholds.

One inference per trace sample, at that sample's upload throughput. A fixed option
pays ``A + bytes * price(tu_t)`` at every sample; the dynamic tracker picks, per
sample, the option that wins its envelope interval (`runtime.thresholds`) for

* ``current``: the sample's own throughput (an oracle that knows tu_t);
* ``previous``: the last measured throughput, tu_{t-1}, as a real tracker would
  (the first sample uses its own measurement, taken at start-up),

and pays the chosen option's cost at the true tu_t. Totals are sums over samples
(ms or mJ); ``gain_pct[o] = 100 * (fixed[o] - dynamic) / fixed[o]``, the share of
option o's total that switching saves (negative: switching costs more).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lens_fast.errors import InputFileError, NetworkError
from lens_fast.network import Radio
from lens_fast.runtime.sources import Options
from lens_fast.runtime.thresholds import UNITS, Envelope, option_costs

TRACKERS: tuple[str, ...] = ("current", "previous")


def read_trace(path: str | Path, column: str | None = None) -> tuple[np.ndarray, str]:
    """Throughputs (Mbit/s) of one column of a CSV trace, and the column's name.

    Without `column`: the first column whose name contains 'mbps', else the only
    column. Every sample must be a number > 0.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"no such trace file: {path}")
    try:
        frame = pd.read_csv(path, comment="#", skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise NetworkError(f"{path}: got an empty trace, expected a header and samples") from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputFileError(f"cannot read trace {path}: {reason}") from exc
    cols = [str(c) for c in frame.columns]
    if column is None:
        mbps = [c for c in cols if "mbps" in c.lower()]
        if mbps:
            column = mbps[0]
        elif len(cols) == 1:
            column = cols[0]
        else:
            raise NetworkError(
                f"{path}: got columns {','.join(cols)} and none named *mbps*, "
                "expected --column NAME"
            )
    elif column not in cols:
        raise NetworkError(f"{path}: got columns {','.join(cols)}, expected a column {column!r}")
    raw = frame[column]
    if len(raw) == 0:
        raise NetworkError(
            f"{path}: got an empty trace (column {column} has no samples), expected >= 1"
        )
    tu = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(tu) & (tu > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        got = "a missing value" if pd.isna(raw.iloc[i]) else str(raw.iloc[i])
        raise NetworkError(
            f"tu must be > 0 Mbit/s, got {got} (row {i + 1} of {path.name}, column {column})"
        )
    return tu, column


@dataclass(frozen=True)
class Simulation:
    """A replay of one trace (T samples) for one metric.

    Attributes:
        metric, tracker: what was replayed and how the tracker decides.
        tu_mbps: `T` throughputs.
        names: `k` option names in network order (all-cloud first, all-edge last).
        costs: `k x T` cost of each option at each sample (ms or mJ).
        chosen: `T` int64, the option (index into names) the tracker used.
        dynamic: `T` cost the tracker paid.
    """

    metric: str
    tracker: str
    tu_mbps: np.ndarray
    names: tuple[str, ...]
    costs: np.ndarray
    chosen: np.ndarray
    dynamic: np.ndarray

    @property
    def unit(self) -> str:
        return UNITS[self.metric]

    @property
    def fixed_totals(self) -> dict[str, float]:
        return {n: float(v) for n, v in zip(self.names, self.costs.sum(axis=1), strict=True)}

    @property
    def dynamic_total(self) -> float:
        return float(self.dynamic.sum())

    @property
    def gain_pct(self) -> dict[str, float]:
        dyn = self.dynamic_total
        return {n: 100.0 * (v - dyn) / v for n, v in self.fixed_totals.items()}

    @property
    def switches(self) -> int:
        return int(np.count_nonzero(np.diff(self.chosen)))

    def to_json(self) -> dict:
        return {
            "metric": self.metric,
            "unit": self.unit,
            "tracker": self.tracker,
            "samples": int(self.tu_mbps.shape[0]),
            "switches": self.switches,
            "fixed": self.fixed_totals,
            "dynamic": self.dynamic_total,
            "gain_pct": self.gain_pct,
        }

    def records(self) -> list[dict]:
        """One row per fixed option, then the dynamic tracker (table/csv output)."""
        gains = self.gain_pct
        rows = [
            {"option": n, f"total_{self.unit.lower()}": v, "gain_pct": gains[n]}
            for n, v in self.fixed_totals.items()
        ]
        rows.append(
            {
                "option": f"dynamic ({self.tracker})",
                f"total_{self.unit.lower()}": self.dynamic_total,
            }
        )
        return rows


def simulate(
    opts: Options, env: Envelope, tu_mbps: np.ndarray, radio: Radio, tracker: str = "current"
) -> Simulation:
    """Replay a trace for `env.metric`: every fixed option and the switching tracker."""
    if tracker not in TRACKERS:
        raise NetworkError(f"tracker must be one of {', '.join(TRACKERS)}, got {tracker!r}")
    from lens_fast.network import check_tu

    tu = check_tu(tu_mbps, "sample")
    order = np.argsort(opts.code, kind="stable")  # network order
    names = tuple(opts.names[j] for j in order)
    costs = option_costs(opts, env.metric, tu, radio)[order]
    decided_at = tu if tracker == "current" else np.concatenate([tu[:1], tu[:-1]])
    position = {name: j for j, name in enumerate(names)}
    chosen = np.array([position[env.names[q]] for q in env.index(decided_at)], dtype=np.int64)
    dynamic = costs[chosen, np.arange(tu.shape[0])]
    return Simulation(env.metric, tracker, tu, names, costs, chosen, dynamic)
