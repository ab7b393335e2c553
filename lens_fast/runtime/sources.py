"""Model sources of the runtime commands: one model, layer by layer, on one device.

A `ModelProfile` lists a model's layers in network order (name, output bytes on
the wire, edge latency and energy, whether the state after it is that one tensor)
and the rules of its deployment options; `ModelProfile.options` turns it into the
options of Algorithm 1, each costing ``A + bytes * price(tu)``. Three sources:

* `from_architecture`: a row of the VGG search space, through the same walk and row
  tables as the core kernels (so the options are bit-identical to `evaluate`'s);
* `from_measured`: a per-layer measurement table (``model, processor, layer,
  output_bytes, latency_ms``; the first row of a model is its input), energy =
  latency x a constant board power;
* `lens_fast.runtime.tracing.from_torchvision`: a torchvision classifier traced with
  torch.fx, costed by the device profile.

Options: all-cloud (sends the input, code 0), a cut after every layer but the last
whose output is one tensor no larger than the input, and all-edge (the last layer's
code). In the `native` semantics all-edge sends nothing and every option that
transmits pays the RTT; `lens-dac21` (space rows only) is the authors' variant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lens_fast.errors import InputFileError, LensError
from lens_fast.network import Radio

CLOUD_NAME = "all-cloud"
EDGE_NAME = "all-edge"

# Whole-board power the LENS authors noted beside their TX2 measurements (W, the
# "ARM + Denver cores on" figures; ../shared/data/README.md). Used when a measured
# table of these models is given without --power-w.
AUTHORS_BOARD_POWER_W: dict[tuple[str, str], float] = {
    ("alexnet", "gpu"): 8.5,
    ("alexnet", "cpu"): 8.5,
    ("vgg", "gpu"): 9.8,
    ("vgg", "cpu"): 9.5,
}
MEASURED_COLUMNS: tuple[str, ...] = ("model", "processor", "layer", "output_bytes", "latency_ms")
INPUT_LAYER_NAMES: tuple[str, ...] = ("input", "data", "image")


class SourceError(LensError, ValueError):
    """A model source (row, measured table, torchvision name) is invalid."""


@dataclass(frozen=True)
class Options:
    """Deployment options of one model, sorted by (bytes, code) as the kernels need.

    Attributes (k options):
        code: `k` int64 codes (0 = all-cloud; names in `ModelProfile.option_names`).
        names: `k` option names.
        size_bytes: `k` float64, bytes transmitted.
        base_latency_ms, base_energy_mj: `k` float64, the tu-independent parts A
            (edge cost up to the cut, plus the RTT of an option that transmits).
    """

    code: np.ndarray
    names: tuple[str, ...]
    size_bytes: np.ndarray
    base_latency_ms: np.ndarray
    base_energy_mj: np.ndarray

    def __len__(self) -> int:
        return int(self.code.shape[0])

    def base(self, metric: str) -> np.ndarray:
        return self.base_latency_ms if metric == "latency" else self.base_energy_mj

    def index(self, name: str) -> int:
        return self.names.index(name)


@dataclass(frozen=True)
class ModelProfile:
    """One model on one device and radio, layer by layer (L layers).

    Attributes:
        name: what the model is, for messages and plot titles.
        layer_names: `L` lower-cased layer names, network order.
        kinds: `L` op kinds (conv, relu, pool, fc, ...), shown by `analyze`.
        codes: `L` int64: the option code of "cut after this layer" (the last
            layer's code is all-edge's).
        option_names: names indexed by option code.
        output_bytes: `L` float64, bytes of each layer's output on the wire.
        latency_ms, energy_mj: `L` float64, edge cost of each layer.
        single_tensor: `L` bool, the whole state after the layer is its output.
        input_bytes: bytes all-cloud sends; edge_bytes: bytes all-edge sends.
        rtt_ms: added to every option that transmits.
        radio: the upload radio (energy prices).
        device: the device's name.
    """

    name: str
    layer_names: tuple[str, ...]
    kinds: tuple[str, ...]
    codes: np.ndarray
    option_names: tuple[str, ...]
    output_bytes: np.ndarray
    latency_ms: np.ndarray
    energy_mj: np.ndarray
    single_tensor: np.ndarray
    input_bytes: float
    edge_bytes: float
    rtt_ms: float
    radio: Radio
    device: str

    @property
    def viable(self) -> np.ndarray:
        """`L` bool: a split may follow the layer (one tensor, output <= input)."""
        return self.single_tensor & (self.output_bytes <= self.input_bytes)

    def options(self) -> Options:
        """The deployment options, sorted by (bytes, code); sums as `build_options`'s."""
        n = len(self.layer_names)
        code = [0]
        size = [float(self.input_bytes)]
        lat = [0.0 + self.rtt_ms]
        en = [0.0]
        cum_lat = 0.0
        cum_en = 0.0
        viable = self.viable
        for r in range(n):
            cum_lat += float(self.latency_ms[r])
            cum_en += float(self.energy_mj[r])
            if r < n - 1 and viable[r]:
                code.append(int(self.codes[r]))
                size.append(float(self.output_bytes[r]))
                lat.append(cum_lat + self.rtt_ms)
                en.append(cum_en)
        code.append(int(self.codes[n - 1]))
        size.append(float(self.edge_bytes))
        lat.append(cum_lat + self.rtt_ms if self.edge_bytes > 0 else cum_lat)
        en.append(cum_en)
        order = sorted(range(len(code)), key=lambda j: (size[j], code[j]))
        codes = np.array([code[j] for j in order], dtype=np.int64)
        return Options(
            code=codes,
            names=tuple(self.option_names[c] for c in codes),
            size_bytes=np.array([size[j] for j in order]),
            base_latency_ms=np.array([lat[j] for j in order]),
            base_energy_mj=np.array([en[j] for j in order]),
        )


def _default_option_names(layer_names: tuple[str, ...]) -> tuple[str, ...]:
    """all-cloud, the layers but the last (codes 1..L-1), all-edge (code L)."""
    return (CLOUD_NAME, *layer_names[:-1], EDGE_NAME)


# ------------------------------------------------------------------ search space


def read_row(path: str | Path, row: int, encoding: str = "native") -> np.ndarray:
    """Row `row` (0-based) of an architecture file as a native `22` int32 array."""
    from lens_fast.space.io import read_architectures

    batch = read_architectures(path, encoding)
    if not 0 <= row < batch.shape[0]:
        raise SourceError(
            f"row index out of range: got {row}, expected 0..{batch.shape[0] - 1} "
            f"({path} has {batch.shape[0]} architecture{'s' if batch.shape[0] != 1 else ''})"
        )
    return batch[row]


def from_architecture(model, native_row: np.ndarray, label: str = "architecture") -> ModelProfile:
    """The rows of one native-encoded architecture under a `PerformanceModel`.

    Rows, sizes and costs come from `kernels.layers.walk` and the model's row tables,
    so `options()` equals the options the core kernels build for it.
    """
    from lens_fast.kernels.layers import CODE, MAX_ROWS, REC_WIDTH, ROW, SIZE, walk
    from lens_fast.space.catalog import universe
    from lens_fast.space.vgg import to_native

    native = to_native(np.asarray(native_row).reshape(1, -1), "native")
    _, row_lat, row_en = model.row_costs(native)
    rec = np.empty((MAX_ROWS, REC_WIDTH), dtype=np.int64)
    n = int(walk(native[0], model.dac21, model.wire_bytes, *universe().index_tables(), rec))
    codes = rec[:n, CODE].copy()
    rows = rec[:n, ROW]
    split = model.split_names
    names = (*(split[c] for c in codes[:-1]), "classifier")
    kinds = tuple(re.sub(r"\d.*$", "", name) for name in names)
    return ModelProfile(
        name=f"{label} ({model.semantics}, {model.device.name})",
        layer_names=names,
        kinds=kinds,
        codes=codes,
        option_names=split,
        output_bytes=rec[:n, SIZE].astype(np.float64),
        latency_ms=row_lat[rows].astype(np.float64),
        energy_mj=row_en[rows].astype(np.float64),
        single_tensor=np.ones(n, dtype=np.bool_),
        input_bytes=float(_input_bytes()),
        edge_bytes=float(model.edge_bytes),
        rtt_ms=model.rtt_ms,
        radio=model.radio,
        device=model.device.name,
    )


def _input_bytes() -> int:
    from lens_fast.config import INPUT_BYTES

    return INPUT_BYTES


# -------------------------------------------------------------- measured tables


def from_measured(
    path: str | Path,
    model_name: str,
    processor: str,
    *,
    radio: Radio,
    power_w: float | None = None,
    rtt_ms: float = 0.0,
    wire_bytes: int = 4,
) -> ModelProfile:
    """A model from a per-layer measurement table (native semantics).

    The table (CSV) has columns ``model, processor, layer, output_bytes,
    latency_ms``; the rows of one (model, processor) are its layers in network
    order, the first being the input (``Input``/``data``; its output_bytes is what
    all-cloud sends, its latency is not edge compute). Layer output sizes are fp32
    and scaled by ``wire_bytes / 4``. Energy = latency x `power_w` (W); without it,
    the authors' board power for the TX2 models of ../shared/data, else an error.
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"no such measured table: {path}")
    try:
        frame = pd.read_csv(path, comment="#", skipinitialspace=True)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputFileError(f"cannot read measured table {path}: {reason}") from exc
    missing = [c for c in MEASURED_COLUMNS if c not in frame.columns]
    if missing:
        raise InputFileError(
            f"{path}: got columns {','.join(map(str, frame.columns))}, expected "
            f"{','.join(MEASURED_COLUMNS)} (missing {','.join(missing)})"
        )
    key_model = frame["model"].astype(str).str.strip().str.lower()
    key_proc = frame["processor"].astype(str).str.strip().str.lower()
    want = (model_name.strip().lower(), processor.strip().lower())
    sel = np.flatnonzero((key_model == want[0]).to_numpy() & (key_proc == want[1]).to_numpy())
    if sel.size == 0:
        pairs = sorted(set(zip(key_model, key_proc, strict=True)))
        have = ", ".join(f"{m}/{p}" for m, p in pairs)
        raise InputFileError(
            f"{path}: got no rows for model {model_name!r} on processor {processor!r}, "
            f"expected one of {have}"
        )
    if "order" in frame.columns:
        order = pd.to_numeric(frame["order"].iloc[sel], errors="coerce").to_numpy()
        if not (np.isfinite(order).all() and (np.diff(order) > 0).all()):
            raise InputFileError(f"{path}: layers out of order (column 'order' is not increasing)")
    layers = [str(v).strip() for v in frame["layer"].iloc[sel]]
    out_bytes = _positive_column(frame, "output_bytes", sel, path, allow_zero=False)
    latency = _positive_column(frame, "latency_ms", sel, path, allow_zero=True)
    _check_network_order(layers, sel, path)
    if len(layers) < 2:
        raise InputFileError(
            f"{path}: got only the input row for {want[0]}/{want[1]}, expected layers"
        )
    watts = _board_power(power_w, want)
    lower = tuple(name.lower() for name in layers[1:])
    if len(set(lower)) != len(lower):
        dup = next(n for n in lower if lower.count(n) > 1)
        raise InputFileError(f"{path}: layer {dup!r} appears twice in {want[0]}/{want[1]}")
    n = len(lower)
    lat = latency[1:]
    return ModelProfile(
        name=f"{want[0]} (measured, {want[1]}, {watts:g} W)",
        layer_names=lower,
        kinds=tuple(re.sub(r"[\d_].*$", "", name) or name for name in lower),
        codes=np.arange(1, n + 1, dtype=np.int64),
        option_names=_default_option_names(lower),
        output_bytes=out_bytes[1:] * (wire_bytes / 4.0),
        latency_ms=lat,
        energy_mj=lat * watts,
        single_tensor=np.ones(n, dtype=np.bool_),
        input_bytes=float(out_bytes[0]),
        edge_bytes=0.0,
        rtt_ms=rtt_ms,
        radio=radio,
        device=f"{want[0]} on {want[1]} (measured)",
    )


def _positive_column(frame, col: str, sel: np.ndarray, path: Path, allow_zero: bool) -> np.ndarray:
    import pandas as pd

    raw = frame[col].iloc[sel]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=np.float64)
    ok = np.isfinite(values) & ((values >= 0) if allow_zero else (values > 0))
    if not ok.all():
        j = int(np.flatnonzero(~ok)[0])
        expected = ">= 0" if allow_zero else "> 0 (every layer needs its output size)"
        got = "a missing value" if pd.isna(raw.iloc[j]) else str(raw.iloc[j])
        raise InputFileError(
            f"{path}: {col} must be a number {expected}, got {got} "
            f"(line {int(sel[j]) + 2}, layer {frame['layer'].iloc[sel[j]]!r})"
        )
    return values


def _check_network_order(layers: list[str], sel: np.ndarray, path: Path) -> None:
    """The input first, and the number in Caffe-style names never going back."""
    if layers[0].lower() not in INPUT_LAYER_NAMES:
        raise InputFileError(
            f"{path}: layers out of order: got {layers[0]!r} first (line {int(sel[0]) + 2}), "
            f"expected the input row ({'/'.join(INPUT_LAYER_NAMES)}) first"
        )
    last_num, last_name = -1, layers[0]
    for j, name in enumerate(layers[1:], start=1):
        if name.lower() in INPUT_LAYER_NAMES:
            raise InputFileError(
                f"{path}: layers out of order: got the input row {name!r} at line "
                f"{int(sel[j]) + 2}, expected it first"
            )
        match = re.search(r"\d+", name)
        if match is None:
            continue
        num = int(match.group())
        if num < last_num:
            raise InputFileError(
                f"{path}: layers out of order: got {name!r} after {last_name!r} "
                f"(line {int(sel[j]) + 2}), expected network order (numbers never decrease)"
            )
        last_num, last_name = num, name


def _board_power(power_w: float | None, key: tuple[str, str]) -> float:
    if power_w is None:
        if key not in AUTHORS_BOARD_POWER_W:
            raise SourceError(
                f"got no --power-w for {key[0]} on {key[1]}, expected the board power in W "
                "(energy = latency x power)"
            )
        return AUTHORS_BOARD_POWER_W[key]
    value = float(power_w)
    if not (np.isfinite(value) and value > 0):
        raise SourceError(f"--power-w must be a number > 0 W, got {power_w}")
    return value
