"""The `synthetic` error: a fixed, smooth, deterministic function of the architecture.

A test fixture for searches that must run in seconds (tests, demos, benchmarks of
the search itself). It is NOT an accuracy estimate and is never presented as one.
It rewards width, depth and keeping resolution (a missing early pool) with
diminishing returns, prefers small kernels late and mid-sized FCs, and has a gentle
oscillation so that the landscape is not a plain monotone ramp; its values lie in
about [0.08, 0.5], like CIFAR-10 errors of such networks.
"""

from __future__ import annotations

import numpy as np

from lens_fast.accuracy.base import ErrorEvaluator
from lens_fast.space.vgg import COL_FC1, COL_FC2, COL_POOL0, NUM_BLOCKS


def synthetic_error(batch: np.ndarray) -> np.ndarray:
    """Synthetic errors of a validated native `n x 22` batch -> `n` float64."""
    b = np.asarray(batch, dtype=np.float64)
    f = b[:, 0 : 3 * NUM_BLOCKS : 3]
    k = b[:, 1 : 3 * NUM_BLOCKS : 3]
    depth = b[:, 2 : 3 * NUM_BLOCKS : 3]
    pools = b[:, COL_POOL0 : COL_POOL0 + NUM_BLOCKS]
    width = (np.log2(f) - np.log2(24.0)) / (np.log2(256.0) - np.log2(24.0))  # 0..1
    w = width.mean(axis=1)
    d = (depth.sum(axis=1) - NUM_BLOCKS) / (2.0 * NUM_BLOCKS)  # 0..1
    # A missing early pool keeps resolution longer: position weight 1 (pool1) .. 0.2 (pool5).
    keep = ((1.0 - pools) * np.linspace(1.0, 0.2, NUM_BLOCKS)).sum(axis=1)
    late_kernel = ((k[:, 3:] - 3.0) / 4.0).mean(axis=1)
    fc = np.maximum(b[:, COL_FC1], b[:, COL_FC2])
    fc_term = (np.log2(fc) - 11.0) / 2.0  # 0 at 2048
    two_fc = (b[:, COL_FC1] > 0) & (b[:, COL_FC2] > 0)
    err = (
        0.06
        + 0.46 * np.exp(-1.9 * w - 1.3 * d - 0.5 * keep)
        + 0.03 * late_kernel**2
        + 0.015 * fc_term**2
        - 0.008 * two_fc
        + 0.012 * np.sin(5.0 * w + 3.0 * d)
    )
    return np.clip(err, 0.01, 0.99)


class SyntheticError(ErrorEvaluator):
    """The synthetic fixture behind the evaluator interface."""

    name = "synthetic"

    def errors(self, batch: np.ndarray) -> np.ndarray:
        return synthetic_error(batch)

    def describe(self) -> dict:
        return {"name": self.name, "version": 1}
