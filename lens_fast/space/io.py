"""Read and write architecture files (CSV or JSON) in either encoding.

CSV: a header with the encoding's column names (other columns are ignored).
JSON: a list of objects with those keys, or ``{"architectures": [...]}``.
Tables written by `lens-fast search` carry the native row in one ``encoding`` column
(22 integers separated by spaces); they are read as native architectures.
Errors name the file, the row and the column.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from lens_fast.errors import InputFileError, SpaceError
from lens_fast.space.vgg import columns, to_native


def read_architectures(path: str | Path, encoding: str = "native") -> np.ndarray:
    """Architectures of a file as a validated native `n x 22` int32 batch."""
    path = Path(path)
    cols = columns(encoding)
    frame = _read_frame(path)
    if encoding == "native" and "encoding" in frame.columns and cols[0] not in frame.columns:
        frame = _split_encoding_column(path, frame["encoding"], cols)
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        other = "paper" if encoding == "native" else "native"
        hint = (
            f"; the file has the {other} encoding's columns: give --encoding {other}"
            if all(c in frame.columns for c in columns(other))
            else ""
        )
        raise InputFileError(
            f"{path}: missing column {missing[0]!r} for the {encoding} encoding "
            f"(expected {','.join(cols)}){hint}"
        )
    if len(frame) == 0:
        raise InputFileError(f"{path}: no architectures in the file")
    values = np.empty((len(frame), len(cols)), dtype=np.int64)
    for j, col in enumerate(cols):
        numeric = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
        bad = ~np.isfinite(numeric) | (numeric != np.round(numeric))
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise InputFileError(
                f"{path}: row {row + 1}: field {col} must be an integer, got {frame[col].iloc[row]!r}"
            )
        values[:, j] = numeric.astype(np.int64)
    try:
        return to_native(values, encoding)
    except SpaceError as exc:
        raise SpaceError(f"{path}: {exc}") from None


def _split_encoding_column(path: Path, column: pd.Series, cols: tuple[str, ...]) -> pd.DataFrame:
    """The ``encoding`` column of search output ("f1 k1 ... fc2") as one column per field."""
    rows = []
    for i, text in enumerate(column.astype(str)):
        fields = text.replace(",", " ").split()
        if len(fields) != len(cols):
            raise InputFileError(
                f"{path}: row {i + 1}: field encoding must hold {len(cols)} integers "
                f"({' '.join(cols)}), got {len(fields)}"
            )
        rows.append(fields)
    return pd.DataFrame(rows, columns=list(cols))


def _read_frame(path: Path) -> pd.DataFrame:
    if not path.exists():
        raise InputFileError(f"no such file: {path}")
    if path.is_dir():
        raise InputFileError(f"expected an architecture file, got a folder: {path}")
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text())
            if isinstance(data, dict) and "architectures" in data:
                data = data["architectures"]
            if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
                raise InputFileError(
                    f"{path}: expected a JSON list of objects (or {{'architectures': [...]}})"
                )
            return pd.DataFrame(data)
        if path.suffix.lower() in (".parquet", ".pq"):
            return pd.read_parquet(path)
        return pd.read_csv(path, comment="#", skipinitialspace=True)
    except InputFileError:
        raise
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputFileError(f"cannot read architecture file {path}: {reason}") from exc


def write_architectures(path: str | Path, batch: np.ndarray, encoding: str = "native") -> Path:
    """Write a batch (already in `encoding`) as CSV or JSON (by suffix)."""
    path = Path(path)
    frame = pd.DataFrame(np.asarray(batch), columns=list(columns(encoding)))
    try:
        if path.suffix.lower() == ".json":
            path.write_text(json.dumps(frame.to_dict(orient="records"), indent=1))
        else:
            frame.to_csv(path, index=False)
    except OSError as exc:
        raise InputFileError(f"cannot write {path}: {exc.strerror}") from exc
    return path
