"""Result files: streaming writers for sweeps (.npz, .parquet) and record tables.

Writers receive chunks as they are computed and never hold the whole n x T result
in memory. The final file appears atomically (written beside it, then renamed), so
an interrupted sweep leaves no half-written file.

A sweep .npz holds: ``tu_mbps`` (T); ``latency_ms``, ``energy_mj``,
``edge_latency_ms``, ``edge_energy_mj`` (n x T float64); ``latency_split``,
``energy_split`` (n x T int8 codes); ``cloud_latency_ms``, ``cloud_energy_mj`` (T);
``split_names`` (names of the codes); ``meta`` (a JSON string).
A sweep .parquet holds one row per (candidate, tu) with the columns of
`lens-fast evaluate`, splits dictionary-encoded.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from lens_fast.errors import InputFileError

GRID_ARRAYS: tuple[tuple[str, str], ...] = (
    ("latency_ms", "<f8"),
    ("latency_split", "|i1"),
    ("energy_mj", "<f8"),
    ("energy_split", "|i1"),
    ("edge_latency_ms", "<f8"),
    ("edge_energy_mj", "<f8"),
)


def _chunk_arrays(ev) -> dict[str, np.ndarray]:
    return {
        "latency_ms": ev.latency_ms,
        "latency_split": ev.latency_split,
        "energy_mj": ev.energy_mj,
        "energy_split": ev.energy_split,
        "edge_latency_ms": ev.edge_latency_ms,
        "edge_energy_mj": ev.edge_energy_mj,
    }


def _check_writable(path: Path) -> None:
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise InputFileError(f"cannot write {path}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise InputFileError(f"cannot write {path}: folder {parent} is not writable")


class NpzSweepWriter:
    """Streams n x T chunks into .npy files, then zips them into the .npz."""

    def __init__(self, path: str | Path, n: int, tu_mbps: np.ndarray, split_names, meta: dict):
        self.path = Path(path)
        _check_writable(self.path)
        self.n, self.t = n, len(tu_mbps)
        self.small = {"tu_mbps": np.asarray(tu_mbps), "split_names": np.asarray(split_names)}
        self.meta = meta
        self.tmp = Path(tempfile.mkdtemp(prefix=".sweep-", dir=self.path.parent or "."))
        self.maps = {
            name: np.lib.format.open_memmap(
                self.tmp / f"{name}.npy", mode="w+", dtype=np.dtype(dt), shape=(n, self.t)
            )
            for name, dt in GRID_ARRAYS
        }

    def write(self, start: int, ev) -> None:
        stop = start + ev.n
        for name, arr in _chunk_arrays(ev).items():
            self.maps[name][start:stop] = arr
        if start == 0:
            self.small["cloud_latency_ms"] = ev.cloud_latency_ms
            self.small["cloud_energy_mj"] = ev.cloud_energy_mj

    def close(self) -> Path:
        try:
            for m in self.maps.values():
                m.flush()
            self.maps.clear()
            partial = self.path.with_name(self.path.name + ".partial")
            with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
                for name, _ in GRID_ARRAYS:
                    with (
                        open(self.tmp / f"{name}.npy", "rb") as src,
                        zf.open(f"{name}.npy", "w", force_zip64=True) as dst,
                    ):
                        shutil.copyfileobj(src, dst, 1 << 22)
                small = {**self.small, "meta": np.asarray(json.dumps(self.meta))}
                for name, arr in small.items():
                    with zf.open(f"{name}.npy", "w") as dst:
                        np.lib.format.write_array(dst, np.asarray(arr), allow_pickle=False)
            os.replace(partial, self.path)
        except OSError as exc:
            raise InputFileError(f"cannot write {self.path}: {exc.strerror or exc}") from exc
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return self.path

    def abort(self) -> None:
        self.maps.clear()
        shutil.rmtree(self.tmp, ignore_errors=True)


class ParquetSweepWriter:
    """Streams chunks as row groups of a long table (one row per candidate and tu)."""

    def __init__(self, path: str | Path, n: int, tu_mbps: np.ndarray, split_names, meta: dict):
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa, self.pq = pa, pq
        self.path = Path(path)
        _check_writable(self.path)
        self.tu = np.asarray(tu_mbps)
        self.names = pa.array(list(split_names), type=pa.string())
        self.partial = self.path.with_name(self.path.name + ".partial")
        self.schema = pa.schema(
            [
                ("index", pa.int64()),
                ("tu", pa.float64()),
                ("latency_ms", pa.float64()),
                ("latency_split", pa.dictionary(pa.int8(), pa.string())),
                ("energy_mj", pa.float64()),
                ("energy_split", pa.dictionary(pa.int8(), pa.string())),
                ("edge_latency_ms", pa.float64()),
                ("edge_energy_mj", pa.float64()),
                ("cloud_latency_ms", pa.float64()),
                ("cloud_energy_mj", pa.float64()),
            ],
            metadata={"lens_fast": json.dumps(meta)},
        )
        try:
            self.writer = pq.ParquetWriter(self.partial, self.schema)
        except OSError as exc:
            raise InputFileError(f"cannot write {self.path}: {exc}") from exc

    def write(self, start: int, ev) -> None:
        pa = self.pa
        n, t = ev.n, len(self.tu)
        dict_of = lambda codes: pa.DictionaryArray.from_arrays(  # noqa: E731
            pa.array(codes.reshape(-1), type=pa.int8()), self.names
        )
        table = pa.Table.from_arrays(
            [
                pa.array(np.repeat(np.arange(start, start + n, dtype=np.int64), t)),
                pa.array(np.tile(self.tu, n)),
                pa.array(ev.latency_ms.reshape(-1)),
                dict_of(ev.latency_split),
                pa.array(ev.energy_mj.reshape(-1)),
                dict_of(ev.energy_split),
                pa.array(ev.edge_latency_ms.reshape(-1)),
                pa.array(ev.edge_energy_mj.reshape(-1)),
                pa.array(np.tile(ev.cloud_latency_ms, n)),
                pa.array(np.tile(ev.cloud_energy_mj, n)),
            ],
            schema=self.schema,
        )
        self.writer.write_table(table)

    def close(self) -> Path:
        try:
            self.writer.close()
            os.replace(self.partial, self.path)
        except OSError as exc:
            raise InputFileError(f"cannot write {self.path}: {exc}") from exc
        return self.path

    def abort(self) -> None:
        try:
            self.writer.close()
        finally:
            self.partial.unlink(missing_ok=True)


def sweep_writer(path: str | Path, n: int, tu_mbps: np.ndarray, split_names, meta: dict):
    """A streaming writer chosen by the file suffix (.npz or .parquet)."""
    suffix = Path(path).suffix.lower()
    if suffix == ".npz":
        return NpzSweepWriter(path, n, tu_mbps, split_names, meta)
    if suffix in (".parquet", ".pq"):
        return ParquetSweepWriter(path, n, tu_mbps, split_names, meta)
    raise InputFileError(f"sweep output must end in .npz or .parquet, got {path}")
