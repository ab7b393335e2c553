"""A fixed surrogate of real trained errors, for benchmarking searches on real data.

Fitted once on a table of (architecture, trained error) rows such as
bench/results/trained_errors.csv (native encoding columns plus ``test_error`` or
``error``): a Gaussian process on the search features with a fitted noise term,
whose posterior mean is the error of any architecture. Deterministic, so a search
on it is reproducible; it stands in for training only in benchmarks.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from lens_fast.accuracy.base import ErrorEvaluator
from lens_fast.errors import InputFileError
from lens_fast.search.features import features
from lens_fast.space.vgg import NATIVE_COLUMNS, sample, validate

FLAT_PROBE = 2_000  # random architectures on which the fitted surrogate must vary
FLAT_RATIO = 0.1  # their least prediction spread (std), as a share of the errors' std


class SurrogateError(ErrorEvaluator):
    """GP posterior mean of a table of trained errors."""

    name = "surrogate"

    def __init__(self, table: str | Path) -> None:
        from sklearn.exceptions import ConvergenceWarning
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
            raise InputFileError(
                f"{path}: missing column {missing[0]!r} for a surrogate table (errors go in "
                "'test_error' or 'error')"
            )
        if len(frame) < 5:
            raise InputFileError(f"{path}: a surrogate needs >= 5 rows, got {len(frame)}")
        x = features(validate(frame[list(NATIVE_COLUMNS)].to_numpy(), "native"))
        y = frame[target].to_numpy(dtype=np.float64)
        bad = np.flatnonzero(~((y >= 0.0) & (y <= 1.0)))
        if bad.size:
            raise InputFileError(
                f"{path}: {target} must be in [0, 1], got {y[bad[0]]} (row {bad[0] + 1})"
            )
        # ARD RBF on the [0, 1]^22 features. The signal variance starts at 1 (outcomes
        # are standardised): started small, the optimiser ends in the optimum that calls
        # every row noise. Lengthscales below 0.1 would only memorise rows (the features'
        # choice levels lie 0.2-0.5 apart).
        kernel = ConstantKernel(1.0, (1e-3, 1e3)) * RBF(
            np.ones(x.shape[1]), (0.1, 1e2)
        ) + WhiteKernel(1e-2, (1e-6, 1e1))
        self.model = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0)
        with warnings.catch_warnings():
            # Irrelevant features end at the lengthscale bound and exact rows at the
            # noise bound, by design; sklearn warns of both.
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model.fit(x, y)
        self._x, self._y = x, y
        self.rows = len(frame)
        # A GP that explains the rows as noise predicts one constant away from them: a
        # search on it would optimise latency and energy alone. Refuse such a table.
        probe = features(sample(FLAT_PROBE, seed=0))
        spread, scale = float(np.std(self.model.predict(probe))), float(np.std(y))
        if not spread > FLAT_RATIO * scale:
            raise InputFileError(
                f"{path}: the surrogate fitted to its {len(y)} errors is flat (over "
                f"{FLAT_PROBE:,} random architectures its predictions vary by {spread:.2g}, the "
                f"errors by {scale:.2g}; expected > {FLAT_RATIO:g} of it): the errors look like "
                "noise, not a function of the architecture"
            )

    def errors(self, batch: np.ndarray) -> np.ndarray:
        return np.clip(self.model.predict(features(batch)), 0.0, 1.0)

    def describe(self) -> dict:
        return {"name": self.name, "table": self.table, "rows": self.rows}

    def loo_spearman(self) -> float:
        """Spearman rho of leave-one-out predictions with the table's errors.

        Each row is predicted by a GP refitted (hyperparameters included) on the
        other rows: how much of the surrogate's structure generalises to unseen
        architectures. Costs one fit per row.
        """
        from scipy.stats import spearmanr
        from sklearn.base import clone
        from sklearn.exceptions import ConvergenceWarning

        x, y = self._x, self._y
        loo = np.empty(len(y))
        for i in range(len(y)):
            keep = np.arange(len(y)) != i
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model = clone(self.model).fit(x[keep], y[keep])
            loo[i] = model.predict(x[i : i + 1])[0]
        return float(spearmanr(loo, y).statistic)
