"""Names of the rows and split options of each semantics, and per-layer listings.

Split codes are small integers (int8 in result arrays); `split_names(semantics)`
gives their names: ``all-cloud``, ``all-edge``, or the lower-cased name of the row
after which the model is cut (``conv3_2``, ``pool5``, ``fc1``; in lens-dac21 the
block rows ``conv3``, ``pool3``).
"""

from __future__ import annotations

from lens_fast.space.vgg import NUM_BLOCKS

NATIVE_SPLIT_NAMES: tuple[str, ...] = (
    "all-cloud",
    *(
        name
        for b in range(1, NUM_BLOCKS + 1)
        for name in (f"conv{b}_1", f"conv{b}_2", f"conv{b}_3", f"pool{b}")
    ),
    "fc1",
    "fc2",
    "all-edge",
)
DAC21_SPLIT_NAMES: tuple[str, ...] = (
    "all-cloud",
    *(name for b in range(1, NUM_BLOCKS + 1) for name in (f"conv{b}", f"pool{b}")),
    "fc1",
    "fc2",
    "all-edge",
)
CLOUD_CODE = 0


def split_names(semantics: str) -> tuple[str, ...]:
    """Names of the split codes of a semantics ('native' or 'lens-dac21')."""
    return DAC21_SPLIT_NAMES if semantics == "lens-dac21" else NATIVE_SPLIT_NAMES


def edge_code(semantics: str) -> int:
    """The split code of the all-edge option."""
    return len(split_names(semantics)) - 1
