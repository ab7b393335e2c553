"""A cache of evaluated candidates, keyed by a hash of (architecture, data, recipe, seed).

Entries are small JSON files, one per key (``DIR/ab/abcdef....json``), written to a
temporary name and renamed, so that any number of processes or runs may share a
folder: a reader sees a whole entry or none, and a result is on disk the moment it
is known. Without a folder the cache lives in memory for the evaluator's lifetime.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from lens_fast.errors import InputFileError

# Bump when a change of the training code changes results, so old entries miss.
CACHE_VERSION = 1


def cache_key(row: object, data_fingerprint: str, recipe: dict, kind: str = "train") -> str:
    """sha256 hex of the native row, the data's fingerprint, the recipe (seed included), kind."""
    payload = {
        "version": CACHE_VERSION,
        "kind": kind,
        "arch": [int(v) for v in row],  # type: ignore[attr-defined]
        "data": data_fingerprint,
        "recipe": recipe,
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class ResultCache:
    """Maps keys to JSON-able result records, in memory and (optionally) in `folder`."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = None if folder is None else Path(folder).expanduser()
        self._memory: dict[str, dict] = {}
        self.hits = 0
        self.misses = 0
        if self.folder is not None:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InputFileError(
                    f"cannot create the cache folder {self.folder}: {exc.strerror}"
                ) from None
            if not self.folder.is_dir():
                raise InputFileError(f"cache folder expected, got a file: {self.folder}")

    def _path(self, key: str) -> Path:
        assert self.folder is not None
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict | None:
        """The record of `key`, or None (a damaged file counts as missing)."""
        record = self._memory.get(key)
        if record is None and self.folder is not None:
            try:
                record = json.loads(self._path(key).read_text())
            except (OSError, ValueError):
                record = None
            if isinstance(record, dict) and record.get("key") == key:
                self._memory[key] = record
            else:
                record = None
        if record is None:
            self.misses += 1
        else:
            self.hits += 1
        return record

    def put(self, key: str, record: dict) -> None:
        """Store `record` under `key` (atomically on disk)."""
        record = {**record, "key": key}
        self._memory[key] = record
        if self.folder is None:
            return
        path = self._path(key)
        path.parent.mkdir(exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(record, fh, allow_nan=True)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def __len__(self) -> int:
        if self.folder is None:
            return len(self._memory)
        return sum(1 for _ in self.folder.glob("??/*.json"))
