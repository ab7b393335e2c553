"""The VGG search space of LENS: encodings, validation, sampling, layer catalog."""

from lens_fast.space.catalog import LayerCatalog, LayerUniverse, catalog, universe
from lens_fast.space.layers import split_names
from lens_fast.space.vgg import (
    NATIVE_COLUMNS,
    PAPER_COLUMNS,
    Architecture,
    Block,
    columns,
    decode,
    encode,
    native_to_paper,
    paper_to_native,
    sample,
    space_size,
    to_native,
    validate,
)

__all__ = [
    "NATIVE_COLUMNS",
    "PAPER_COLUMNS",
    "Architecture",
    "Block",
    "LayerCatalog",
    "LayerUniverse",
    "catalog",
    "columns",
    "decode",
    "encode",
    "native_to_paper",
    "paper_to_native",
    "sample",
    "space_size",
    "split_names",
    "to_native",
    "universe",
    "validate",
]
