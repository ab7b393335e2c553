"""Constants and numba options, in one place.

Physical constants of the method (DESIGN.md, Algorithm 1) and the compilation flags
that every kernel uses. Nothing here imports numba, so reading a constant is cheap.
"""

from __future__ import annotations

import os

# numba: cached compilation, no GIL, fast math that keeps NaN and inf semantics
# (no "nnan"/"ninf"), so a NaN that slips in still propagates and is caught.
FASTMATH: frozenset[str] = frozenset({"nsz", "arcp", "contract", "afn"})
NJIT_OPTIONS: dict = {"cache": True, "nogil": True, "fastmath": set(FASTMATH)}
PARALLEL_OPTIONS: dict = {**NJIT_OPTIONS, "parallel": True}

# Input image of the performance objectives: 224 x 224 x 3, uint8 (DESIGN.md).
INPUT_SIDE_PX: int = 224
INPUT_CHANNELS: int = 3
INPUT_BYTES: int = INPUT_SIDE_PX * INPUT_SIDE_PX * INPUT_CHANNELS  # 150,528
NUM_CLASSES: int = 10
FLOAT32_BYTES: int = 4

# Wire dtypes a user may pick for transmitted feature maps (native semantics).
WIRE_DTYPE_BYTES: dict[str, int] = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}

# lens-dac21: the authors' code divides conv-block and pool latencies by 1.6.
LENS_DAC21_SPEEDUP: float = 1.6

SEMANTICS: tuple[str, ...] = ("native", "lens-dac21")
ENCODINGS: tuple[str, ...] = ("native", "paper")


def numba_threads() -> int:
    """Number of numba threads to use (env LENS_FAST_THREADS overrides)."""
    value = os.environ.get("LENS_FAST_THREADS")
    if value:
        return max(1, int(value))
    return os.cpu_count() or 1
