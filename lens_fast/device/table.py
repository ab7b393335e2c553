"""Device profile tables: per-layer measurements in the DESIGN.md schema.

Columns: ``op`` (conv, batchnorm, relu, pool, fc), ``in_features``,
``out_features`` (pool, fc), ``k2f`` (conv), ``latency_ms``, ``power_w``; other
columns are kept but ignored. CSV or Parquet. Metadata (device name, how it was
measured, power meter) lives in a JSON sidecar ``<table>.meta.json`` when present.

Repeated measurements of one config are averaged. The content hash covers the
normalised measurements only, so the same table as CSV or Parquet hashes equally.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lens_fast.errors import InputFileError, ProfileError
from lens_fast.space.catalog import OP_NAMES

COLUMNS: tuple[str, ...] = ("op", "in_features", "out_features", "k2f", "latency_ms", "power_w")
KEY_COLUMNS: tuple[str, ...] = ("op", "in_features", "out_features", "k2f")
# Which feature columns each op needs (DESIGN.md, "Predictor features").
OP_FEATURES: dict[str, tuple[str, ...]] = {
    "conv": ("in_features", "k2f"),
    "batchnorm": ("in_features",),
    "relu": ("in_features",),
    "pool": ("in_features", "out_features"),
    "fc": ("in_features", "out_features"),
}


@dataclass
class ProfileTable:
    """A validated profile table.

    Attributes:
        frame: one row per distinct config, columns `COLUMNS` (+ ``n_samples``),
            features as int64 with unused ones 0.
        meta: metadata dict (``device``, ``method``, ``meter``, ...).
        source: where it was read from (for messages).
    """

    frame: pd.DataFrame
    meta: dict = field(default_factory=dict)
    source: str = "<memory>"

    @property
    def content_hash(self) -> str:
        """sha256 of the normalised measurements (hex)."""
        f = self.frame
        h = hashlib.sha256()
        h.update(",".join(COLUMNS).encode())
        h.update(f["op"].astype(str).str.cat(sep="|").encode())
        for col in COLUMNS[1:]:
            h.update(np.ascontiguousarray(f[col].to_numpy(dtype=np.float64)).tobytes())
        return h.hexdigest()

    @property
    def device_name(self) -> str:
        return str(self.meta.get("device", "unknown device"))

    def __len__(self) -> int:
        return len(self.frame)

    def lookup(self) -> dict[tuple[str, int, int, int], tuple[float, float]]:
        """Exact look-up: config -> (latency ms, power W)."""
        f = self.frame
        keys = zip(
            f["op"].tolist(),
            f["in_features"].tolist(),
            f["out_features"].tolist(),
            f["k2f"].tolist(),
            strict=True,
        )
        values = zip(f["latency_ms"].tolist(), f["power_w"].tolist(), strict=True)
        return dict(zip(keys, values, strict=True))

    def save(self, path: str | Path) -> Path:
        """Write as CSV or Parquet (by suffix) with the metadata sidecar."""
        path = Path(path)
        try:
            if path.suffix == ".parquet":
                self.frame[list(COLUMNS)].to_parquet(path, index=False)
            else:
                self.frame[list(COLUMNS)].to_csv(path, index=False)
            meta_path(path).write_text(json.dumps(self.meta, indent=2, sort_keys=True))
        except OSError as exc:
            raise InputFileError(f"cannot write profile table {path}: {exc.strerror}") from exc
        return path


def meta_path(table_path: Path) -> Path:
    """The metadata sidecar of a table file: ``name.meta.json`` beside it."""
    return table_path.with_name(table_path.stem + ".meta.json")


def read_frame(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet table; unreadable or malformed files raise one-line errors."""
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"no such file: {path}")
    if path.is_dir():
        raise InputFileError(f"expected a table file, got a folder: {path}")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, comment="#")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputFileError(f"cannot read table {path}: {reason}") from exc
    except Exception as exc:  # pyarrow and the C parser raise their own types
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputFileError(f"cannot read table {path}: {reason}") from exc


def from_frame(
    raw: pd.DataFrame, meta: dict | None = None, source: str = "<memory>"
) -> ProfileTable:
    """Validate and normalise a raw frame into a `ProfileTable`."""
    missing = [c for c in ("op", "in_features", "latency_ms", "power_w") if c not in raw.columns]
    if missing:
        raise ProfileError(
            f"profile table {source}: missing column {missing[0]!r} (expected {', '.join(COLUMNS)})"
        )
    if len(raw) == 0:
        raise ProfileError(f"profile table {source}: no rows")
    frame = pd.DataFrame({"op": raw["op"].astype(str).str.strip().str.lower()})
    unknown = sorted(set(frame["op"]) - set(OP_NAMES))
    if unknown:
        row = int(np.flatnonzero(frame["op"].to_numpy() == unknown[0])[0])
        raise ProfileError(
            f"profile table {source}: unknown op {unknown[0]!r} in row {row + 1}, "
            f"expected one of {', '.join(OP_NAMES)}"
        )
    for col in ("in_features", "out_features", "k2f", "latency_ms", "power_w"):
        if col in raw.columns:
            values = pd.to_numeric(raw[col], errors="coerce").to_numpy(dtype=np.float64)
            text_bad = raw[col].notna().to_numpy() & np.isnan(values)
            if text_bad.any():
                row = int(np.flatnonzero(text_bad)[0])
                raise ProfileError(
                    f"profile table {source}: column {col!r} row {row + 1} is not a number, "
                    f"got {raw[col].iloc[row]!r}"
                )
        else:
            values = np.full(len(raw), np.nan)
        frame[col] = values
    ops = frame["op"].to_numpy()
    for col, what in (("latency_ms", "latency"), ("power_w", "power")):
        values = frame[col].to_numpy()
        bad = ~np.isfinite(values) | (values <= 0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ProfileError(
                f"profile table {source}: {what} must be a finite number > 0, "
                f"got {values[row]} in row {row + 1} ({col})"
            )
    for col in ("in_features", "out_features", "k2f"):
        values = frame[col].to_numpy()
        needed = np.isin(ops, [op for op, feats in OP_FEATURES.items() if col in feats])
        bad = needed & (~np.isfinite(values) | (values <= 0) | (values != np.round(values)))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise ProfileError(
                f"profile table {source}: {ops[row]} rows need a positive integer {col}, "
                f"got {values[row]} in row {row + 1}"
            )
        frame[col] = np.where(needed, values, 0).astype(np.int64)
    grouped = frame.groupby(list(KEY_COLUMNS), sort=True, as_index=False)
    table = grouped.agg(
        latency_ms=("latency_ms", "mean"),
        power_w=("power_w", "mean"),
        n_samples=("latency_ms", "size"),
    )
    return ProfileTable(frame=table.reset_index(drop=True), meta=dict(meta or {}), source=source)


def load_table(path: str | Path) -> ProfileTable:
    """Load and validate a profile table file (CSV or Parquet) and its sidecar."""
    path = Path(path)
    raw = read_frame(path)
    meta: dict = {}
    side = meta_path(path)
    if side.exists():
        try:
            meta = json.loads(side.read_text())
        except (OSError, ValueError) as exc:
            raise ProfileError(f"profile metadata {side} is not valid JSON: {exc}") from exc
    meta.setdefault("device", path.stem)
    return from_frame(raw, meta, source=str(path))
