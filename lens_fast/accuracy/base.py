"""The interface every error evaluator implements (the search's third objective).

An evaluator maps a batch of natively encoded architectures (`n x 22` int32) to
their test errors (`n` float64 in [0, 1]). `describe()` returns the JSON-able
configuration that identifies it (stored in run manifests and cache keys), so two
evaluators with equal descriptions give equal errors.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class ErrorEvaluator(ABC):
    """Base class of error evaluators (synthetic, train, proxy, ...)."""

    name: str = "evaluator"

    @abstractmethod
    def errors(self, batch: np.ndarray) -> np.ndarray:
        """Test errors in [0, 1] of a validated native `n x 22` int32 batch -> `n` float64."""

    @abstractmethod
    def describe(self) -> dict:
        """JSON-able configuration identifying this evaluator (name included)."""

    def close(self) -> None:  # noqa: B027 - optional hook, nothing to release by default
        """Release workers or clusters the evaluator holds."""
