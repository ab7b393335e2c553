"""XGBoost predictors of per-layer latency and power, one per (op, target).

Each predictor works in log space: a power law fitted by least squares (so that
configs beyond the measured range extrapolate sensibly, which trees alone cannot)
plus gradient-boosted trees on its residual. Features follow DESIGN.md: conv
``(in_features, k2f)``, relu/batchnorm ``(in_features)``, pool and fc
``(in_features, out_features)``. The held-out MAPE (a seeded 80/20 split) is
recorded; the saved model is then refitted on every row.

xgboost is imported inside the functions that need it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lens_fast.device.table import OP_FEATURES, ProfileTable
from lens_fast.errors import ProfileError

TARGETS: tuple[str, ...] = ("latency_ms", "power_w")
XGB_PARAMS: dict = {
    "objective": "reg:squarederror",
    "max_depth": 6,
    "eta": 0.05,
    "subsample": 0.9,
    "min_child_weight": 1.0,
    "lambda": 1.0,
    "tree_method": "hist",
    # One thread: tables have thousands of rows at most, and on a loaded machine two
    # threads wait on each other (a TX2-table fit took 66 s with 2 threads, 7 s with 1).
    "nthread": 1,
}
XGB_ROUNDS = 600
MIN_ROWS_FOR_TREES = 8
MIN_ROWS_FOR_HOLDOUT = 10


@dataclass
class OpPredictor:
    """Predicts one target of one op from its features (`n x d` float64 -> `n`)."""

    op: str
    target: str
    features: tuple[str, ...]
    coef: np.ndarray  # power law: log y = coef[0] + coef[1:] . log x
    booster: Any  # xgboost.Booster on the residual, or None
    mape_pct: float  # held-out mean absolute percentage error (nan if too few rows)
    n_rows: int

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predict for `n x d` feature rows (natural units); returns `n` float64."""
        logx = np.log(np.maximum(np.asarray(x, dtype=np.float64), 1.0))
        base = self.coef[0] + logx @ self.coef[1:]
        if self.booster is not None:
            import xgboost as xgb

            base = base + self.booster.predict(xgb.DMatrix(logx))
        return np.exp(base)


def _fit_once(logx: np.ndarray, logy: np.ndarray, seed: int):
    design = np.column_stack([np.ones(len(logx)), logx])
    coef, *_ = np.linalg.lstsq(design, logy, rcond=None)
    booster = None
    if len(logx) >= MIN_ROWS_FOR_TREES:
        import xgboost as xgb

        params = {**XGB_PARAMS, "seed": seed}
        residual = logy - design @ coef
        booster = xgb.train(params, xgb.DMatrix(logx, label=residual), XGB_ROUNDS)
    return coef, booster


def fit_op(frame: pd.DataFrame, op: str, target: str, seed: int = 0) -> OpPredictor:
    """Fit one (op, target) predictor on the rows of `frame` whose op is `op`."""
    rows = frame[frame["op"] == op]
    feats = OP_FEATURES[op]
    x = rows[list(feats)].to_numpy(dtype=np.float64)
    y = rows[target].to_numpy(dtype=np.float64)
    logx, logy = np.log(np.maximum(x, 1.0)), np.log(y)
    mape = float("nan")
    if len(rows) >= MIN_ROWS_FOR_HOLDOUT:
        order = np.random.default_rng(seed).permutation(len(rows))
        n_test = max(1, len(rows) // 5)
        test, train = order[:n_test], order[n_test:]
        coef, booster = _fit_once(logx[train], logy[train], seed)
        held = OpPredictor(op, target, feats, coef, booster, mape, len(train))
        pred = held.predict(x[test])
        mape = float(np.mean(np.abs(pred - y[test]) / y[test]) * 100.0)
    coef, booster = _fit_once(logx, logy, seed)
    return OpPredictor(op, target, feats, coef, booster, mape, len(rows))


@dataclass
class PredictorSet:
    """All fitted predictors of a profile, keyed by (op, target)."""

    predictors: dict[tuple[str, str], OpPredictor]
    table_hash: str

    def predict(self, op: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(latency ms, power W) for `n x d` feature rows of one op."""
        try:
            lat = self.predictors[(op, "latency_ms")].predict(x)
            pw = self.predictors[(op, "power_w")].predict(x)
        except KeyError:
            raise ProfileError(
                f"the profile has no {op!r} rows, so {op} layers can be neither looked up "
                "nor predicted; profile that op"
            ) from None
        return lat, pw

    def mape_table(self) -> pd.DataFrame:
        """Held-out MAPE per (op, target) with the row counts."""
        rows = [
            {"op": op, "target": t, "rows": p.n_rows, "heldout_mape_pct": p.mape_pct}
            for (op, t), p in sorted(self.predictors.items())
        ]
        return pd.DataFrame(rows)

    def save(self, folder: Path) -> None:
        """Write the boosters (`models/{op}_{target}.ubj`) and `predictors.json`."""
        models = folder / "models"
        models.mkdir(parents=True, exist_ok=True)
        entries: list[dict] = []
        index = {"table_sha256": self.table_hash, "predictors": entries}
        for (op, target), p in sorted(self.predictors.items()):
            model_file = None
            if p.booster is not None:
                model_file = f"models/{op}_{target}.ubj"
                p.booster.save_model(str(folder / model_file))  # type: ignore[attr-defined]
            entries.append(
                {
                    "op": op,
                    "target": target,
                    "features": list(p.features),
                    "coef": [float(c) for c in p.coef],
                    "model": model_file,
                    "heldout_mape_pct": None if np.isnan(p.mape_pct) else p.mape_pct,
                    "rows": p.n_rows,
                }
            )
        (folder / "predictors.json").write_text(json.dumps(index, indent=2))


def fit(table: ProfileTable, seed: int = 0) -> PredictorSet:
    """Fit every (op, target) predictor that the table has rows for."""
    preds: dict[tuple[str, str], OpPredictor] = {}
    for op in sorted(set(table.frame["op"])):
        for target in TARGETS:
            preds[(op, target)] = fit_op(table.frame, op, target, seed)
    return PredictorSet(preds, table.content_hash)


def load(folder: Path) -> PredictorSet:
    """Load predictors saved by `PredictorSet.save` (no refitting)."""
    import xgboost as xgb

    index_path = folder / "predictors.json"
    try:
        index = json.loads(index_path.read_text())
        preds = {}
        for entry in index["predictors"]:
            booster = None
            if entry["model"]:
                booster = xgb.Booster()
                booster.load_model(str(folder / entry["model"]))
            mape = entry["heldout_mape_pct"]
            preds[(entry["op"], entry["target"])] = OpPredictor(
                entry["op"],
                entry["target"],
                tuple(entry["features"]),
                np.asarray(entry["coef"], dtype=np.float64),
                booster,
                float("nan") if mape is None else float(mape),
                int(entry["rows"]),
            )
        return PredictorSet(preds, str(index["table_sha256"]))
    except (OSError, ValueError, KeyError, TypeError, xgb.core.XGBoostError) as exc:
        raise ProfileError(f"predictors in {folder} are unreadable or corrupted: {exc}") from exc
