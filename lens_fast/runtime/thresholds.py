"""Exact throughput thresholds: which deployment option wins over which tu range.

Every option costs ``a + b/tu`` (`lens_fast.kernels.envelope`); the winner over tu in
(0, inf) is the lower envelope of those curves, computed exactly. `envelope` does
it for one model (`Options` of a `ModelProfile`); `batch_envelopes` runs the
parallel kernel over a whole batch of the search space and returns compact CSR
arrays. The intervals tile (0, inf): option q wins from ``tu_min[q]`` to
``tu_max[q]``; at a breakpoint the two neighbours cost the same, and the core's tie
rule (fewer transmitted bytes) gives it to the lower interval.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lens_fast.errors import InputFileError, LensError
from lens_fast.network import Radio, mj_per_byte, ms_per_byte
from lens_fast.runtime.sources import Options

METRICS: tuple[str, ...] = ("latency", "energy")
UNITS: dict[str, str] = {"latency": "ms", "energy": "mJ"}


def coefficients(metric: str, radio: Radio) -> tuple[float, float]:
    """(ka, kb) of ``cost = A + ka*bytes + kb*bytes/tu`` (DESIGN.md, Algorithm 1).

    latency: ``bytes * 8 / (tu * 1000)`` -> (0, 8/1000); energy: that times
    ``(alpha*tu + beta)/1000`` -> (8*alpha/1e6, 8*beta/1e6).
    """
    from lens_fast.kernels.envelope import LATENCY_KB

    if metric == "latency":
        return 0.0, LATENCY_KB
    if metric == "energy":
        return 8.0 * radio.alpha_mw_per_mbps / 1e6, 8.0 * radio.beta_mw / 1e6
    raise LensError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")


def price(metric: str, tu_mbps: np.ndarray, radio: Radio) -> np.ndarray:
    """Price of one transmitted byte at each tu (ms or mJ), as the core computes it."""
    return ms_per_byte(tu_mbps) if metric == "latency" else mj_per_byte(tu_mbps, radio)


def option_costs(opts: Options, metric: str, tu_mbps: np.ndarray, radio: Radio) -> np.ndarray:
    """`k x T` cost of every option at every tu: ``A + bytes * price(tu)``."""
    per_byte = price(metric, np.asarray(tu_mbps, dtype=np.float64), radio)
    return opts.base(metric)[:, None] + opts.size_bytes[:, None] * per_byte[None, :]


@dataclass(frozen=True)
class Envelope:
    """The winning options of one model and metric over tu in (0, inf).

    Attributes (m intervals):
        metric: 'latency' or 'energy'.
        names: `m` option names; codes: `m` int64 option codes.
        tu_min: `m` float64 interval starts (Mbit/s), strictly increasing, first 0.
    """

    metric: str
    names: tuple[str, ...]
    codes: np.ndarray
    tu_min: np.ndarray

    @property
    def tu_max(self) -> np.ndarray:
        """`m` interval ends (Mbit/s), the last +inf."""
        return np.append(self.tu_min[1:], np.inf)

    @property
    def breakpoints(self) -> np.ndarray:
        """`m - 1` thresholds (Mbit/s) where the winner changes."""
        return self.tu_min[1:]

    def index(self, tu_mbps: object) -> np.ndarray:
        """Interval of each tu (a tu equal to a breakpoint belongs to the lower one)."""
        return np.searchsorted(self.breakpoints, np.asarray(tu_mbps, dtype=np.float64), "left")

    def winner(self, tu_mbps: object) -> list[str]:
        return [self.names[q] for q in self.index(tu_mbps).tolist()]

    def records(self) -> list[dict]:
        """``{"option", "tu_min", "tu_max"}`` per interval; tu_max None for +inf."""
        ends = self.tu_max
        return [
            {
                "option": name,
                "tu_min": float(self.tu_min[q]),
                "tu_max": None if np.isinf(ends[q]) else float(ends[q]),
            }
            for q, name in enumerate(self.names)
        ]


def envelope(opts: Options, metric: str, radio: Radio) -> Envelope:
    """Exact envelope of one model's options (sorted by (bytes, code))."""
    from lens_fast.kernels.envelope import envelope_one

    ka, kb = coefficients(metric, radio)
    codes, tu_min = envelope_one(
        np.ascontiguousarray(opts.code, dtype=np.int64),
        np.ascontiguousarray(opts.size_bytes, dtype=np.float64),
        np.ascontiguousarray(opts.base(metric), dtype=np.float64),
        ka,
        kb,
    )
    _check(tu_min, "the envelope")
    position = {int(c): j for j, c in enumerate(opts.code.tolist())}
    names = tuple(opts.names[position[int(c)]] for c in codes)
    return Envelope(metric, names, codes, tu_min)


def _check(tu_min: np.ndarray, what: str) -> None:
    """No NaN, a 0 start, strictly increasing finite breakpoints."""
    if tu_min.size == 0 or tu_min[0] != 0.0:
        raise LensError(f"{what}: got interval starts {tu_min[:3]}, expected 0 first")
    br = tu_min[1:]
    if not (np.isfinite(br).all() and (br > 0).all() and (np.diff(br) > 0).all()):
        raise LensError(f"{what}: got breakpoints {br}, expected finite, > 0 and increasing")


# --------------------------------------------------------------------- batches


@dataclass(frozen=True)
class CSREnvelopes:
    """Envelopes of n candidates for one metric, concatenated (M intervals in all).

    Attributes:
        offsets: `n + 1` int64; candidate i's intervals are offsets[i]:offsets[i+1].
        code: `M` int8 option codes (names in `BatchEnvelopes.split_names`).
        tu_min: `M` float64 interval starts (Mbit/s; 0 at each candidate's first).
    """

    offsets: np.ndarray
    code: np.ndarray
    tu_min: np.ndarray

    @property
    def counts(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def tu_max(self) -> np.ndarray:
        """`M` interval ends (+inf at each candidate's last)."""
        ends = np.append(self.tu_min[1:], np.inf)
        ends[self.offsets[1:] - 1] = np.inf
        return ends


@dataclass(frozen=True)
class BatchEnvelopes:
    """Latency and energy envelopes of a batch of the search space."""

    split_names: tuple[str, ...]
    latency: CSREnvelopes
    energy: CSREnvelopes

    @property
    def n(self) -> int:
        return int(self.latency.offsets.shape[0] - 1)

    def of(self, metric: str) -> CSREnvelopes:
        return self.latency if metric == "latency" else self.energy

    def candidate(self, i: int, metric: str) -> Envelope:
        csr = self.of(metric)
        lo, hi = int(csr.offsets[i]), int(csr.offsets[i + 1])
        codes = csr.code[lo:hi].astype(np.int64)
        names = tuple(self.split_names[c] for c in codes)
        return Envelope(metric, names, codes, csr.tu_min[lo:hi].copy())

    def option_counts(self, metric: str) -> dict[str, int]:
        """How many candidates have each option somewhere on their envelope."""
        counts = np.bincount(self.of(metric).code, minlength=len(self.split_names))
        return {self.split_names[c]: int(v) for c, v in enumerate(counts) if v}

    def save(self, path: str | Path, meta: dict | None = None) -> Path:
        """Write .npz (the CSR arrays) or .csv/.parquet (one row per interval)."""
        import json

        path = Path(path)
        suffix = path.suffix.lower()
        try:
            if suffix == ".npz":
                arrays: dict[str, Any] = {"split_names": np.array(self.split_names)}
                for m in METRICS:
                    csr = self.of(m)
                    arrays[f"{m}_offsets"] = csr.offsets
                    arrays[f"{m}_code"] = csr.code
                    arrays[f"{m}_tu_min"] = csr.tu_min
                arrays["meta"] = np.array(json.dumps(meta or {}))
                with open(path, "wb") as fh:
                    np.savez(fh, **arrays)
            elif suffix in (".csv", ".parquet", ".pq"):
                frame = self.frame()
                if suffix == ".csv":
                    frame.to_csv(path, index=False)
                else:
                    frame.to_parquet(path, index=False)
            else:
                raise InputFileError(f"--out must end in .npz, .csv or .parquet, got {path.name!r}")
        except OSError as exc:
            raise InputFileError(f"cannot write {path}: {exc.strerror or exc}") from exc
        return path

    def frame(self):
        """pandas frame: row, metric, option, tu_min, tu_max (one row per interval)."""
        import pandas as pd

        parts = []
        names = np.array(self.split_names, dtype=object)
        for m in METRICS:
            csr = self.of(m)
            parts.append(
                pd.DataFrame(
                    {
                        "row": np.repeat(np.arange(self.n), csr.counts),
                        "metric": m,
                        "option": names[csr.code],
                        "tu_min": csr.tu_min,
                        "tu_max": csr.tu_max,
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)


def batch_envelopes(model, native: np.ndarray) -> BatchEnvelopes:
    """Envelopes of every candidate of a validated native `n x 22` batch.

    model: a `PerformanceModel` (device, radio, semantics, RTT, wire dtype).
    """
    from lens_fast.config import INPUT_BYTES
    from lens_fast.kernels.envelope import envelopes
    from lens_fast.kernels.splits import MAX_OPTIONS
    from lens_fast.space.catalog import universe

    native = np.ascontiguousarray(native, dtype=np.int32)
    n = native.shape[0]
    _, row_lat, row_en = model.row_costs(native)
    ka, kb = coefficients("energy", model.radio)
    out = {}
    for m in METRICS:
        out[m] = (
            np.zeros(n, dtype=np.int64),
            np.zeros((n, MAX_OPTIONS), dtype=np.int8),
            np.zeros((n, MAX_OPTIONS), dtype=np.float64),
        )
    if n:
        envelopes(
            native,
            model.dac21,
            model.wire_bytes,
            INPUT_BYTES,
            model.edge_bytes,
            model.rtt_ms,
            row_lat,
            row_en,
            *universe().index_tables(),
            ka,
            kb,
            *out["latency"],
            *out["energy"],
        )
    csr = {}
    for m in METRICS:
        count, code, tu_min = out[m]
        mask = np.arange(MAX_OPTIONS)[None, :] < count[:, None]
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(count, out=offsets[1:])
        csr[m] = CSREnvelopes(offsets, code[mask], tu_min[mask])
        _check_batch(csr[m], m)
    return BatchEnvelopes(model.split_names, csr["latency"], csr["energy"])


def _check_batch(csr: CSREnvelopes, metric: str) -> None:
    if csr.tu_min.size == 0:
        return
    first = np.zeros(csr.tu_min.shape[0], dtype=np.bool_)
    first[csr.offsets[:-1][csr.counts > 0]] = True
    br = csr.tu_min[~first]
    ok = (
        (csr.counts >= 1).all()
        and (csr.tu_min[first] == 0.0).all()
        and np.isfinite(br).all()
        and (br > 0).all()
    )
    if ok:
        step = np.diff(csr.tu_min)
        ok = bool((step[~first[1:]] > 0).all())
    if not ok:
        raise LensError(f"{metric} envelopes: got non-increasing or non-finite breakpoints")
