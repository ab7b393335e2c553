"""The paper's VGG search space: choices, encodings, validation, sampling.

Five convolutional blocks; block b has `l_b` conv layers (1..3), kernel `k_b`
(3, 5, 7) and `f_b` filters (24 ... 256), then an optional 2x2 max-pool. At least
four of the five pools exist. Then FC1 and FC2 (0 = absent, at least one present)
and the 10-class classifier (DESIGN.md, "The VGG search space").

Two encodings, both `n x d` int arrays:

* native (d = 22): ``f1,k1,l1,...,f5,k5,l5,pool1..pool5,fc1,fc2`` with pool flags
  0/1 and fc sizes 0 (absent) or a size.
* paper (d = 18): ``f1,k1,l1,...,f5,k5,l5,p,fc1,fc2`` as in the authors' code:
  ``p`` in 1..5 names the block without a pool, 6 means all five pool; FC1 is
  always present and fc2 = 0 means absent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lens_fast.errors import SpaceError

NUM_BLOCKS = 5
MIN_POOLS = 4
F_CHOICES: tuple[int, ...] = (24, 36, 64, 96, 128, 256)
K_CHOICES: tuple[int, ...] = (3, 5, 7)
L_CHOICES: tuple[int, ...] = (1, 2, 3)
FC_CHOICES: tuple[int, ...] = (256, 512, 1024, 2048, 4096, 8192)
P_CHOICES: tuple[int, ...] = (1, 2, 3, 4, 5, 6)

BLOCK_FIELDS: tuple[str, ...] = tuple(
    f"{name}{b}" for b in range(1, NUM_BLOCKS + 1) for name in ("f", "k", "l")
)
NATIVE_COLUMNS: tuple[str, ...] = (
    *BLOCK_FIELDS,
    *(f"pool{b}" for b in range(1, NUM_BLOCKS + 1)),
    "fc1",
    "fc2",
)
PAPER_COLUMNS: tuple[str, ...] = (*BLOCK_FIELDS, "p", "fc1", "fc2")

# Column positions in the native encoding.
COL_POOL0 = 3 * NUM_BLOCKS  # 15
COL_FC1 = COL_POOL0 + NUM_BLOCKS  # 20
COL_FC2 = COL_FC1 + 1  # 21
NATIVE_WIDTH = len(NATIVE_COLUMNS)  # 22
PAPER_WIDTH = len(PAPER_COLUMNS)  # 18
# Column positions in the paper encoding.
PCOL_P = 3 * NUM_BLOCKS  # 15
PCOL_FC1 = PCOL_P + 1
PCOL_FC2 = PCOL_P + 2


def columns(encoding: str) -> tuple[str, ...]:
    """Column names of an encoding ('native' or 'paper')."""
    if encoding == "native":
        return NATIVE_COLUMNS
    if encoding == "paper":
        return PAPER_COLUMNS
    raise SpaceError(f"encoding must be 'native' or 'paper', got {encoding!r}")


@dataclass(frozen=True)
class Block:
    """One conv block: `layers` convs of `kernel` x `kernel` with `filters` outputs."""

    filters: int
    kernel: int
    layers: int
    pool: bool


@dataclass(frozen=True)
class Architecture:
    """A decoded architecture of the space; `fc1`/`fc2` are 0 when absent."""

    blocks: tuple[Block, ...]
    fc1: int
    fc2: int

    @property
    def num_pools(self) -> int:
        return sum(b.pool for b in self.blocks)


# --------------------------------------------------------------------------- checks


def _allowed_text(values: tuple[int, ...]) -> str:
    return "{" + ", ".join(str(v) for v in values) + "}"


def _field_choices(encoding: str) -> list[tuple[int, ...]]:
    choices: list[tuple[int, ...]] = []
    for _ in range(NUM_BLOCKS):
        choices += [F_CHOICES, K_CHOICES, L_CHOICES]
    if encoding == "native":
        choices += [(0, 1)] * NUM_BLOCKS + [(0, *FC_CHOICES)] * 2
    else:
        choices += [P_CHOICES, FC_CHOICES, (0, *FC_CHOICES)]
    return choices


def as_batch(batch: object, encoding: str = "native") -> np.ndarray:
    """Coerce to a C-contiguous `n x d` int32 array of the encoding's width.

    Raises `SpaceError` for a wrong shape, NaN, or non-integer values; does not check
    the allowed values (see `validate`).
    """
    width = len(columns(encoding))
    arr = np.asarray(batch)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != width:
        raise SpaceError(
            f"a {encoding}-encoded batch must be n x {width} "
            f"({','.join(columns(encoding))}), got shape {tuple(arr.shape)}"
        )
    if arr.dtype.kind == "f":
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            row, col = np.argwhere(bad)[0]
            raise SpaceError(
                f"row {row}: field {columns(encoding)[col]} must be an integer, got {arr[row, col].item()!r}"
            )
    elif arr.dtype.kind not in "iub":
        raise SpaceError(f"architecture values must be integers, got dtype {arr.dtype}")
    if arr.size and (arr.max() > 2**31 - 1 or arr.min() < -(2**31)):
        raise SpaceError("architecture values out of the int32 range")
    return np.ascontiguousarray(arr, dtype=np.int32)


def validate(batch: object, encoding: str = "native") -> np.ndarray:
    """Check every row against the space; return the batch as `n x d` int32.

    The first invalid row raises `SpaceError` naming the row, the field, the value
    and the allowed values, e.g. "row 3: field k2 = 4 not in {3, 5, 7}".
    """
    from lens_fast.kernels.space import first_invalid

    arr = as_batch(batch, encoding)
    if arr.shape[0] == 0:
        return arr
    row, code = first_invalid(arr, encoding)
    if row < 0:
        return arr
    names = columns(encoding)
    if code < len(names):
        allowed = _field_choices(encoding)[code]
        raise SpaceError(
            f"row {row}: field {names[code]} = {arr[row, code]} not in {_allowed_text(allowed)}"
        )
    if code == len(names):
        pools = arr[row, COL_POOL0 : COL_POOL0 + NUM_BLOCKS].tolist()
        raise SpaceError(
            f"row {row}: at least {MIN_POOLS} of the 5 pools must exist, got pool1..pool5 = {pools}"
        )
    raise SpaceError(f"row {row}: at least one of fc1, fc2 must be present, got fc1 = fc2 = 0")


# ---------------------------------------------------------------------- conversions


def paper_to_native(batch: object) -> np.ndarray:
    """Convert a paper-encoded `n x 18` batch into the native `n x 22` encoding."""
    paper = validate(batch, "paper")
    n = paper.shape[0]
    native = np.empty((n, NATIVE_WIDTH), dtype=np.int32)
    native[:, :COL_POOL0] = paper[:, :PCOL_P]
    blocks = np.arange(1, NUM_BLOCKS + 1, dtype=np.int32)
    native[:, COL_POOL0:COL_FC1] = (paper[:, PCOL_P : PCOL_P + 1] != blocks).astype(np.int32)
    native[:, COL_FC1] = paper[:, PCOL_FC1]
    native[:, COL_FC2] = paper[:, PCOL_FC2]
    return native


def native_to_paper(batch: object) -> np.ndarray:
    """Convert a native `n x 22` batch into the paper's `n x 18` encoding.

    The paper's FC1 is always present: a native row with only FC2 (fc1 = 0) is the
    same network as one with only FC1, and is written with fc1 = that size, fc2 = 0.
    """
    native = validate(batch, "native")
    n = native.shape[0]
    paper = np.empty((n, PAPER_WIDTH), dtype=np.int32)
    paper[:, :PCOL_P] = native[:, :COL_POOL0]
    pools = native[:, COL_POOL0:COL_FC1]
    missing = np.argmin(pools, axis=1) + 1
    paper[:, PCOL_P] = np.where(pools.all(axis=1), 6, missing)
    fc1 = native[:, COL_FC1]
    fc2 = native[:, COL_FC2]
    paper[:, PCOL_FC1] = np.where(fc1 == 0, fc2, fc1)
    paper[:, PCOL_FC2] = np.where(fc1 == 0, 0, fc2)
    return paper


def to_native(batch: object, encoding: str) -> np.ndarray:
    """Validate a batch of either encoding and return it natively encoded."""
    if encoding == "paper":
        return paper_to_native(batch)
    if encoding == "native":
        return validate(batch, "native")
    raise SpaceError(f"encoding must be 'native' or 'paper', got {encoding!r}")


# ------------------------------------------------------------------ decode / encode


def decode(row: object, encoding: str = "native") -> Architecture:
    """Decode one encoded row into an `Architecture`."""
    native = to_native(np.asarray(row).reshape(1, -1), encoding)[0]
    blocks = tuple(
        Block(
            filters=int(native[3 * b]),
            kernel=int(native[3 * b + 1]),
            layers=int(native[3 * b + 2]),
            pool=bool(native[COL_POOL0 + b]),
        )
        for b in range(NUM_BLOCKS)
    )
    return Architecture(blocks=blocks, fc1=int(native[COL_FC1]), fc2=int(native[COL_FC2]))


def encode(arch: Architecture, encoding: str = "native") -> np.ndarray:
    """Encode an `Architecture` as a length-d int32 row (validated)."""
    if len(arch.blocks) != NUM_BLOCKS:
        raise SpaceError(f"an architecture has {NUM_BLOCKS} blocks, got {len(arch.blocks)}")
    row = [v for b in arch.blocks for v in (b.filters, b.kernel, b.layers)]
    row += [int(b.pool) for b in arch.blocks] + [arch.fc1, arch.fc2]
    native = validate(np.asarray(row, dtype=np.int64), "native")
    return native[0] if encoding == "native" else native_to_paper(native)[0]


# ------------------------------------------------------------------------- sampling


def sample(n: int, seed: int | np.random.Generator | None = 0) -> np.ndarray:
    """Draw `n` architectures uniformly from the valid space, natively encoded.

    Every block field is uniform over its choices, the pool pattern uniform over the
    six valid patterns, and (fc1, fc2) uniform over the 48 valid pairs, so every
    valid architecture has the same probability. Returns `n x 22` int32.
    """
    if n < 0:
        raise SpaceError(f"number of samples must be >= 0, got {n}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    out = np.empty((n, NATIVE_WIDTH), dtype=np.int32)
    f = np.asarray(F_CHOICES, dtype=np.int32)
    k = np.asarray(K_CHOICES, dtype=np.int32)
    ell = np.asarray(L_CHOICES, dtype=np.int32)
    for b in range(NUM_BLOCKS):
        out[:, 3 * b] = f[rng.integers(0, len(F_CHOICES), n)]
        out[:, 3 * b + 1] = k[rng.integers(0, len(K_CHOICES), n)]
        out[:, 3 * b + 2] = ell[rng.integers(0, len(L_CHOICES), n)]
    missing = rng.integers(0, NUM_BLOCKS + 1, n)  # NUM_BLOCKS means all pools
    out[:, COL_POOL0:COL_FC1] = (missing[:, None] != np.arange(NUM_BLOCKS)).astype(np.int32)
    fc = np.asarray((0, *FC_CHOICES), dtype=np.int32)
    pair = rng.integers(1, len(fc) ** 2, n)  # pair 0 = (0, 0) is excluded
    out[:, COL_FC1] = fc[pair // len(fc)]
    out[:, COL_FC2] = fc[pair % len(fc)]
    return out


def space_size() -> int:
    """Number of distinct valid architectures (native encoding)."""
    per_block = len(F_CHOICES) * len(K_CHOICES) * len(L_CHOICES)
    return per_block**NUM_BLOCKS * (NUM_BLOCKS + 1) * ((len(FC_CHOICES) + 1) ** 2 - 1)


def smallest() -> np.ndarray:
    """The cheapest architecture: minimal filters, kernels and layers, five pools, one small FC."""
    row = [24, 3, 1] * NUM_BLOCKS + [1] * NUM_BLOCKS + [256, 0]
    return np.asarray(row, dtype=np.int32)


def largest() -> np.ndarray:
    """The most expensive architecture: widest, deepest, pool1 absent, two big FCs."""
    row = [256, 7, 3] * NUM_BLOCKS + [0, 1, 1, 1, 1] + [8192, 8192]
    return np.asarray(row, dtype=np.int32)


# ------------------------------------------------------------------------ mutation


def mutate(batch: np.ndarray, rng: np.random.Generator, max_fields: int = 3) -> np.ndarray:
    """One mutant per row of a native batch: 1..max_fields block/fc fields redrawn, or the
    pool pattern redrawn, always to a different valid value. Returns `n x 22` int32."""
    choices = _field_choices("native")
    out = np.array(batch, dtype=np.int32, copy=True)
    n = out.shape[0]
    mutable = [*range(COL_POOL0), COL_FC1, COL_FC2, -1]  # -1: the pool pattern
    counts = [int(c) for c in np.asarray(rng.integers(1, max_fields + 1, size=(n,)))]
    for i in range(n):
        picked = rng.permutation(len(mutable))[: counts[i]].tolist()
        for col in picked:
            field = mutable[col]
            if field == -1:
                current = (
                    int(np.flatnonzero(out[i, COL_POOL0:COL_FC1] == 0)[0])
                    if (out[i, COL_POOL0:COL_FC1].sum() == 4)
                    else NUM_BLOCKS
                )
                options = [p for p in range(NUM_BLOCKS + 1) if p != current]
                missing = options[rng.integers(len(options))]
                out[i, COL_POOL0:COL_FC1] = (np.arange(NUM_BLOCKS) != missing).astype(np.int32)
                continue
            options = [v for v in choices[field] if v != out[i, field]]
            out[i, field] = options[rng.integers(len(options))]
        if out[i, COL_FC1] == 0 and out[i, COL_FC2] == 0:
            out[i, COL_FC1 + rng.integers(2)] = FC_CHOICES[rng.integers(len(FC_CHOICES))]
    return out


def row_keys(batch: np.ndarray) -> np.ndarray:
    """A unique int64 per architecture of a validated native batch -> `n` int64.

    The mixed-radix number of the choice indices: the space has ~1.3e11 members, far
    below 2**63, so equal keys mean equal architectures (used to de-duplicate pools).
    """
    arr = np.asarray(batch, dtype=np.int64)
    key = np.zeros(arr.shape[0], dtype=np.int64)
    lookups = (_index_of(F_CHOICES), _index_of(K_CHOICES), _index_of(L_CHOICES))
    for b in range(NUM_BLOCKS):
        for j, (table, radix) in enumerate(zip(lookups, (6, 3, 3), strict=True)):
            key = key * radix + table[arr[:, 3 * b + j]]
    for b in range(NUM_BLOCKS):
        key = key * 2 + arr[:, COL_POOL0 + b]
    fc = _index_of((0, *FC_CHOICES))
    key = key * 7 + fc[arr[:, COL_FC1]]
    return key * 7 + fc[arr[:, COL_FC2]]


def _index_of(values: tuple[int, ...]) -> np.ndarray:
    table = np.zeros(max(values) + 1, dtype=np.int64)
    table[list(values)] = np.arange(len(values))
    return table
