"""Device models: per-layer latency and power for the configs of a catalog.

A `DeviceModel` answers ``costs(op, in_features, out_features, k2f)`` for arrays of
configs. `TableDevice` serves configs present in its profile table exactly
(measured beats predicted) and predicts the others with the XGBoost predictors of
`lens_fast.device.predictors`, fitted lazily the first time a config is missing.
Answers are memoised per universe config, so a device is asked about each distinct
config once, however many candidates and batches use it.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from lens_fast.device import predictors as pred
from lens_fast.device.table import OP_FEATURES, ProfileTable
from lens_fast.errors import ProfileError
from lens_fast.space.catalog import OP_NAMES, LayerCatalog, universe


class DeviceModel(ABC):
    """Base class: subclasses implement `_costs` for configs of one op."""

    name: str = "device"
    content_hash: str = ""

    def __init__(self) -> None:
        uni = universe()
        self._latency_ms = np.full(uni.size, np.nan)
        self._power_w = np.full(uni.size, np.nan)
        self._exact = np.zeros(uni.size, dtype=np.bool_)
        self._known = np.zeros(uni.size, dtype=np.bool_)

    @abstractmethod
    def _costs(self, op: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(latency ms, power W, exact mask) for `n x d` features of one op."""

    # -- public ------------------------------------------------------------------
    def costs(
        self, op: np.ndarray, in_features: np.ndarray, out_features: np.ndarray, k2f: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per-config (latency ms, power W, served-exactly mask), each `m` long.

        `op` holds indices into OP_NAMES; one model call per op present.
        """
        op = np.asarray(op)
        m = op.shape[0]
        lat = np.empty(m)
        pw = np.empty(m)
        exact = np.zeros(m, dtype=np.bool_)
        columns = {"in_features": in_features, "out_features": out_features, "k2f": k2f}
        for code in np.unique(op):
            name = OP_NAMES[int(code)]
            sel = np.flatnonzero(op == code)
            x = np.column_stack([np.asarray(columns[f])[sel] for f in OP_FEATURES[name]])
            lat[sel], pw[sel], exact[sel] = self._costs(name, x.astype(np.float64))
        bad = ~(np.isfinite(lat) & np.isfinite(pw) & (lat > 0) & (pw > 0))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ProfileError(
                f"device {self.name!r} gave an invalid cost for {OP_NAMES[int(op[i])]} "
                f"(in={int(in_features[i])}, out={int(out_features[i])}, k2f={int(k2f[i])}): "
                f"latency {lat[i]} ms, power {pw[i]} W"
            )
        return lat, pw, exact

    def catalog_costs(self, cat: LayerCatalog) -> tuple[np.ndarray, np.ndarray]:
        """Universe-length (latency ms, power W) arrays, filled for the catalog's configs.

        Configs not asked before are computed in one call per op; the rest come from
        the memo. Entries outside the catalog may be NaN.
        """
        ids = cat.config_id
        new = ids[~self._known[ids]]
        if new.size:
            uni = universe()
            lat, pw, exact = self.costs(
                uni.op[new], uni.in_features[new], uni.out_features[new], uni.k2f[new]
            )
            self._latency_ms[new] = lat
            self._power_w[new] = pw
            self._exact[new] = exact
            self._known[new] = True
        return self._latency_ms, self._power_w

    def exact_count(self, cat: LayerCatalog) -> int:
        """How many of the catalog's configs were served by exact look-up."""
        self.catalog_costs(cat)
        return int(self._exact[cat.config_id].sum())

    def describe(self) -> dict:
        return {"device": self.name, "hash": self.content_hash}


def cache_root() -> Path:
    """Where predictors fitted for bare tables are kept (LENS_FAST_CACHE_DIR overrides)."""
    env = os.environ.get("LENS_FAST_CACHE_DIR")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "lens-fast"


class TableDevice(DeviceModel):
    """A measured profile table plus XGBoost predictors for the configs it lacks."""

    def __init__(
        self,
        table: ProfileTable,
        predictors: pred.PredictorSet | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.table = table
        self.name = table.device_name
        self.content_hash = table.content_hash
        self._lookup = table.lookup()
        self._predictors = predictors
        self._cache_dir = cache_dir

    @property
    def predictors(self) -> pred.PredictorSet:
        """The fitted predictors (loaded from the cache or fitted and cached once)."""
        if self._predictors is None:
            self._predictors = self._load_or_fit()
        return self._predictors

    def _load_or_fit(self) -> pred.PredictorSet:
        folder = None if self._cache_dir is None else self._cache_dir / self.content_hash
        if folder is not None and (folder / "predictors.json").exists():
            try:
                loaded = pred.load(folder)
                if loaded.table_hash == self.content_hash:
                    return loaded
            except ProfileError:
                pass  # a damaged cache entry is refitted below and replaced
        fitted = pred.fit(self.table)
        if folder is not None:
            _save_atomically(fitted, folder)
        return fitted

    def _costs(self, op: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        n = x.shape[0]
        lat = np.empty(n)
        pw = np.empty(n)
        exact = np.zeros(n, dtype=np.bool_)
        feats = OP_FEATURES[op]
        for i in range(n):
            key = {"in_features": 0, "out_features": 0, "k2f": 0}
            for j, f in enumerate(feats):
                key[f] = int(x[i, j])
            hit = self._lookup.get((op, key["in_features"], key["out_features"], key["k2f"]))
            if hit is not None:
                lat[i], pw[i] = hit
                exact[i] = True
        miss = ~exact
        if miss.any():
            lat[miss], pw[miss] = self.predictors.predict(op, x[miss])
        return lat, pw, exact


def _save_atomically(fitted: pred.PredictorSet, folder: Path) -> None:
    """Write predictors into `folder` via a temporary sibling; failures are ignored."""
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=folder.parent, prefix=".tmp-"))
        fitted.save(tmp)
        if folder.exists():
            shutil.rmtree(folder, ignore_errors=True)
        tmp.rename(folder)
    except OSError:
        pass  # caching is an optimisation; an unwritable cache only costs a refit
