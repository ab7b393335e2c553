"""lens-fast: wireless-aware multi-objective NAS for edge-cloud split DNNs (LENS, DAC 2021)."""

from lens_fast.errors import LensError
from lens_fast.objectives import Evaluation, PerformanceModel, evaluate

__version__ = "0.1.0"

__all__ = ["Evaluation", "LensError", "PerformanceModel", "__version__", "evaluate"]
