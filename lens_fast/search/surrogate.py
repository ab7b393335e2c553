"""A fixed surrogate of real trained errors, for benchmarking searches on real data.

Fitted once on a table of (architecture, trained error) rows such as
bench/results/trained_errors.csv (native encoding columns plus ``test_error`` or
``error``): a Gaussian process on the search features with a fitted noise term,
whose posterior mean is the error of any architecture. Deterministic, so a search
on it is reproducible; it stands in for training only in benchmarks.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from lens_fast.accuracy.base import ErrorEvaluator
from lens_fast.errors import InputFileError
from lens_fast.search.features import features
from lens_fast.space.vgg import NATIVE_COLUMNS, validate


class SurrogateError(ErrorEvaluator):
    """GP posterior mean of a table of trained errors."""

    name = "surrogate"

    def __init__(self, table: str | Path) -> None:
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

        self.table = str(table)
        path = Path(table)
        if not path.exists():
            raise InputFileError(f"no such surrogate table: {path}")
        frame = pd.read_csv(path, comment="#")
        target = "test_error" if "test_error" in frame.columns else "error"
        missing = [c for c in (*NATIVE_COLUMNS, target) if c not in frame.columns]
        if missing:
            raise InputFileError(f"{path}: missing column {missing[0]!r} for a surrogate table")
        if len(frame) < 5:
            raise InputFileError(f"{path}: a surrogate needs >= 5 rows, got {len(frame)}")
        x = features(validate(frame[list(NATIVE_COLUMNS)].to_numpy(), "native"))
        y = frame[target].to_numpy(dtype=np.float64)
        kernel = ConstantKernel(0.01) * RBF(np.full(x.shape[1], 1.0), (1e-2, 1e2)) + WhiteKernel(
            1e-4
        )
        self.model = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0)
        self.model.fit(x, y)
        self.rows = len(frame)

    def errors(self, batch: np.ndarray) -> np.ndarray:
        return np.clip(self.model.predict(features(batch)), 0.0, 1.0)

    def describe(self) -> dict:
        return {"name": self.name, "table": self.table, "rows": self.rows}
