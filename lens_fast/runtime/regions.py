"""Per-country deployment tables: the winning option at each country's upload speed.

`read_countries` reads ``region, country, upload_mbps`` (e.g.
../shared/data/network/upload_mbps_by_country.csv). `regions` gives one model's
winning latency and energy options per country (from its exact envelopes);
`batch_regions` scores a batch of the search space at every country's throughput
with the core kernels and says which candidate wins where, and in how many
countries.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lens_fast.errors import InputFileError, NetworkError
from lens_fast.network import Radio
from lens_fast.runtime.sources import Options
from lens_fast.runtime.thresholds import Envelope, option_costs

COUNTRY_COLUMNS: tuple[str, ...] = ("region", "country", "upload_mbps")


@dataclass(frozen=True)
class Countries:
    """C countries: `region`, `country` names and `upload_mbps` (C float64)."""

    region: tuple[str, ...]
    country: tuple[str, ...]
    upload_mbps: np.ndarray

    def __len__(self) -> int:
        return len(self.country)


def read_countries(path: str | Path) -> Countries:
    """A ``region,country,upload_mbps`` CSV; every throughput a number > 0."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"no such countries file: {path}")
    try:
        frame = pd.read_csv(path, comment="#", skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise InputFileError(
            f"{path}: got an empty file, expected {','.join(COUNTRY_COLUMNS)}"
        ) from None
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputFileError(f"cannot read countries file {path}: {reason}") from exc
    missing = [c for c in COUNTRY_COLUMNS if c not in frame.columns]
    if missing:
        raise InputFileError(
            f"{path}: got columns {','.join(map(str, frame.columns))}, expected "
            f"{','.join(COUNTRY_COLUMNS)}"
        )
    if len(frame) == 0:
        raise InputFileError(f"{path}: got no countries, expected at least one row")
    raw = frame["upload_mbps"]
    tu = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~(np.isfinite(tu) & (tu > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        got = "a missing value" if pd.isna(raw.iloc[i]) else str(raw.iloc[i])
        raise NetworkError(
            f"tu must be > 0 Mbit/s, got {got} (row {i + 1} of {path.name}, "
            f"country {frame['country'].iloc[i]!r})"
        )
    return Countries(
        tuple(str(v) for v in frame["region"]), tuple(str(v) for v in frame["country"]), tu
    )


def regions(opts: Options, envs: dict[str, Envelope], countries: Countries, radio: Radio):
    """One record per country: the winning latency and energy options and their costs."""
    tu = countries.upload_mbps
    out = [
        {"country": c, "region": r, "upload_mbps": float(t)}
        for c, r, t in zip(countries.country, countries.region, tu.tolist(), strict=True)
    ]
    for metric, unit in (("latency", "latency_ms"), ("energy", "energy_mj")):
        env = envs[metric]
        winners = env.winner(tu)
        costs = option_costs(opts, metric, tu, radio)
        idx = [opts.index(name) for name in winners]
        values = costs[idx, np.arange(tu.shape[0])]
        for rec, name, value in zip(out, winners, values.tolist(), strict=True):
            rec[f"{metric}_option"] = name
            rec[unit] = value
    return out


def batch_regions(model, native: np.ndarray, countries: Countries, chunk: int | None = None):
    """Which candidate of a batch wins each country, and how many countries each wins.

    Scores the batch at the distinct throughputs of the table with the core
    (`PerformanceModel.sweep`), keeping per throughput the lowest latency and the
    lowest energy (ties: the earlier row). Returns (per-country records, per-candidate
    win records sorted by wins).
    """
    tus, inverse = np.unique(countries.upload_mbps, return_inverse=True)
    best = {m: np.full(tus.shape[0], np.inf) for m in ("latency", "energy")}
    row = {m: np.zeros(tus.shape[0], dtype=np.int64) for m in ("latency", "energy")}
    split = {m: np.zeros(tus.shape[0], dtype=np.int64) for m in ("latency", "energy")}
    for start, ev in model.sweep(native, tus, chunk=chunk):
        for m, values, codes in (
            ("latency", ev.latency_ms, ev.latency_split),
            ("energy", ev.energy_mj, ev.energy_split),
        ):
            i = np.argmin(values, axis=0)  # first minimum: the earlier row
            v = values[i, np.arange(tus.shape[0])]
            better = v < best[m]
            best[m][better] = v[better]
            row[m][better] = start + i[better]
            split[m][better] = codes[i, np.arange(tus.shape[0])][better]
    names = model.split_names
    per_country = []
    for j, (c, r) in enumerate(zip(countries.country, countries.region, strict=True)):
        t = inverse[j]
        per_country.append(
            {
                "country": c,
                "region": r,
                "upload_mbps": float(countries.upload_mbps[j]),
                "latency_row": int(row["latency"][t]),
                "latency_option": names[split["latency"][t]],
                "latency_ms": float(best["latency"][t]),
                "energy_row": int(row["energy"][t]),
                "energy_option": names[split["energy"][t]],
                "energy_mj": float(best["energy"][t]),
            }
        )
    wins: dict[int, list[int]] = {}
    for rec in per_country:
        wins.setdefault(rec["latency_row"], [0, 0])[0] += 1
        wins.setdefault(rec["energy_row"], [0, 0])[1] += 1
    win_records = [
        {"row": i, "latency_countries": lat, "energy_countries": en}
        for i, (lat, en) in sorted(wins.items(), key=lambda kv: (-(kv[1][0] + kv[1][1]), kv[0]))
    ]
    return per_country, win_records
