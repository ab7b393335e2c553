"""The run store: a run folder with `manifest.json` and `trials.sqlite`.

* ``manifest.json``: format and version, the full configuration (and its hash), the
  seed, package versions, the device profile's hash, creation time. Written once,
  atomically, when the run is created; `--resume` refuses a different configuration.
* ``trials.sqlite``: table ``trials`` with one row per evaluated candidate, each
  committed in its own transaction as soon as it is known. ``trial_id`` is assigned
  when the candidate is proposed (iteration by iteration, slot by slot), so a batch
  whose evaluations finish out of order, or a run killed mid-batch, keeps the same
  ids; `missing` says which proposed slots still need an evaluation.

A folder that is not a run (no manifest, another format, an unreadable database)
is refused with a one-line `RunStoreError`; nothing is ever overwritten.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lens_fast.errors import RunStoreError

FORMAT = "lens-fast-run"
VERSION = 1
MANIFEST = "manifest.json"
DATABASE = "trials.sqlite"
COLUMNS: tuple[str, ...] = (
    "trial_id",
    "encoding",
    "error",
    "latency_ms",
    "latency_split",
    "energy_mj",
    "energy_split",
    "edge_latency_ms",
    "edge_energy_mj",
    "iteration",
    "seconds",
)
SCHEMA = """
CREATE TABLE IF NOT EXISTS trials (
    trial_id INTEGER PRIMARY KEY,
    encoding TEXT NOT NULL,
    error REAL NOT NULL,
    latency_ms REAL NOT NULL,
    latency_split TEXT NOT NULL,
    energy_mj REAL NOT NULL,
    energy_split TEXT NOT NULL,
    edge_latency_ms REAL NOT NULL,
    edge_energy_mj REAL NOT NULL,
    iteration INTEGER NOT NULL,
    seconds REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def config_hash(config: dict) -> str:
    """sha256 of a configuration's canonical JSON."""
    return hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()


def package_versions() -> dict[str, str]:
    """Versions of the packages that shape the numbers of a run."""
    import platform
    from importlib import metadata

    from lens_fast import __version__

    versions = {"lens_fast": __version__, "python": platform.python_version()}
    for name in ("numpy", "numba", "torch", "botorch", "gpytorch", "xgboost"):
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


@dataclass
class Trial:
    """One evaluated candidate (see `COLUMNS`); `encoding` is the native row."""

    trial_id: int
    encoding: np.ndarray
    error: float
    latency_ms: float
    latency_split: str
    energy_mj: float
    energy_split: str
    edge_latency_ms: float
    edge_energy_mj: float
    iteration: int
    seconds: float


class RunStore:
    """An open run folder."""

    def __init__(self, folder: Path, manifest: dict, conn: sqlite3.Connection) -> None:
        self.folder = folder
        self.manifest = manifest
        self.conn = conn

    # ------------------------------------------------------------------ opening
    @classmethod
    def create(cls, folder: str | Path, config: dict, seed: int, profile_hash: str) -> RunStore:
        """Create a new run; refuse a folder that already holds anything."""
        folder = Path(folder)
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            what = "a run" if (folder / MANIFEST).exists() else "files"
            raise RunStoreError(
                f"{folder} already holds {what}; use --resume to continue it or pick a new folder"
            )
        try:
            folder.mkdir(parents=True, exist_ok=True)
            manifest = {
                "format": FORMAT,
                "version": VERSION,
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "config": config,
                "config_sha256": config_hash(config),
                "seed": seed,
                "versions": package_versions(),
                "profile_sha256": profile_hash,
            }
            tmp = folder / (MANIFEST + ".partial")
            tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True))
            conn = _connect(folder / DATABASE)
            conn.executescript(SCHEMA)
            conn.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
            conn.commit()
            os.replace(tmp, folder / MANIFEST)
        except OSError as exc:
            raise RunStoreError(
                f"cannot create run folder {folder}: {exc.strerror or exc}"
            ) from exc
        return cls(folder, manifest, conn)

    @classmethod
    def open(cls, folder: str | Path) -> RunStore:
        """Open an existing run read/write; refuse corrupted or foreign folders."""
        folder = Path(folder)
        if not folder.is_dir():
            raise RunStoreError(f"no run folder at {folder}")
        manifest_path = folder / MANIFEST
        if not manifest_path.exists():
            raise RunStoreError(f"{folder} is not a lens-fast run (no {MANIFEST})")
        try:
            manifest = json.loads(manifest_path.read_text())
        except (OSError, ValueError) as exc:
            raise RunStoreError(f"{manifest_path} is corrupted (not valid JSON): {exc}") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            got = manifest.get("format") if isinstance(manifest, dict) else type(manifest).__name__
            raise RunStoreError(f"{folder} is not a lens-fast run (manifest format {got!r})")
        if manifest.get("version") != VERSION:
            raise RunStoreError(
                f"{folder}: run format version {manifest.get('version')}, this lens-fast reads {VERSION}"
            )
        if config_hash(manifest.get("config", {})) != manifest.get("config_sha256"):
            raise RunStoreError(
                f"{manifest_path} was edited: its config no longer matches its hash"
            )
        db = folder / DATABASE
        if not db.exists():
            raise RunStoreError(f"{folder} is corrupted: {DATABASE} is missing")
        try:
            conn = _connect(db)
            ok = conn.execute("PRAGMA quick_check").fetchone()[0]
            names = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            cols = [r[1] for r in conn.execute("PRAGMA table_info(trials)")]
        except sqlite3.DatabaseError as exc:
            raise RunStoreError(f"{db} is corrupted: {exc}") from exc
        if ok != "ok" or "trials" not in names or tuple(cols) != COLUMNS:
            raise RunStoreError(f"{db} is corrupted or not a trials database")
        return cls(folder, manifest, conn)

    def check_config(self, config: dict) -> None:
        """Refuse to continue with a configuration other than the run's."""
        old = self.manifest["config"]
        if config_hash(config) == self.manifest["config_sha256"]:
            return
        diffs = [k for k in sorted(set(old) | set(config)) if old.get(k) != config.get(k)]
        key = diffs[0] if diffs else "?"
        raise RunStoreError(
            f"--resume with different options: {key} was {old.get(key)!r} in {self.folder}, "
            f"got {config.get(key)!r}"
        )

    # ------------------------------------------------------------------ trials
    def add(self, trial: Trial) -> None:
        """Commit one trial now (its own transaction)."""
        row = (
            int(trial.trial_id),
            json.dumps([int(v) for v in trial.encoding]),
            float(trial.error),
            float(trial.latency_ms),
            trial.latency_split,
            float(trial.energy_mj),
            trial.energy_split,
            float(trial.edge_latency_ms),
            float(trial.edge_energy_mj),
            int(trial.iteration),
            float(trial.seconds),
        )
        try:
            with self.conn:
                self.conn.execute(f"INSERT INTO trials VALUES ({','.join('?' * len(row))})", row)
        except sqlite3.IntegrityError as exc:
            raise RunStoreError(f"trial {trial.trial_id} is already in {self.folder}") from exc

    def trials(self) -> list[Trial]:
        """All committed trials, by trial_id."""
        rows = self.conn.execute(f"SELECT {','.join(COLUMNS)} FROM trials ORDER BY trial_id")
        out = []
        for r in rows:
            out.append(Trial(r[0], np.asarray(json.loads(r[1]), dtype=np.int32), *r[2:]))
        return out

    def trial_ids(self) -> set[int]:
        return {r[0] for r in self.conn.execute("SELECT trial_id FROM trials")}

    def set_meta(self, key: str, value: str) -> None:
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def get_meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        self.conn.close()


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def load_trials_frame(source: str | Path):
    """Trials of a run folder as a pandas DataFrame (read-only use)."""
    import pandas as pd

    store = RunStore.open(source)
    try:
        rows = store.trials()
    finally:
        store.close()
    frame = pd.DataFrame([t.__dict__ for t in rows], columns=list(COLUMNS))
    frame.attrs["manifest"] = store.manifest
    return frame
