"""Algorithm 1: space + device + network -> per-candidate latency and energy arrays.

`PerformanceModel` holds what does not change between batches (device, radio,
semantics, RTT, wire dtype); `PerformanceModel.evaluate` validates a batch, builds
its layer catalog, asks the device once per catalog config, and runs the numba
kernel. `evaluate` is the one-call form.

Semantics (DESIGN.md): ``native`` (default; one row per layer, RTT on every option
that transmits, all-edge transmits nothing) and ``lens-dac21`` (the authors' code:
block rows, the 1.6 divisor, all-edge transmits the 40-byte output, no RTT).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from lens_fast import network as net
from lens_fast.config import INPUT_BYTES, NUM_CLASSES, SEMANTICS, WIRE_DTYPE_BYTES
from lens_fast.device.model import DeviceModel
from lens_fast.device.profile import load_device
from lens_fast.errors import LensError, NetworkError
from lens_fast.space.catalog import LayerCatalog, catalog, universe
from lens_fast.space.layers import edge_code, split_names
from lens_fast.space.rows import row_costs
from lens_fast.space.vgg import to_native

# Sweep chunks: about 2^17 output cells (about 2.4 MB of buffers, reused chunk after
# chunk and kept in cache), and at least 2,048 rows (4 parallel work items of the
# kernel). Fresh buffers cost their page faults on first touch: on a 2-core VM one
# 10,000 x 64 chunk took 17 ms in fresh buffers and 4 ms in warm ones.
SWEEP_CHUNK_CELLS = 1 << 17
SWEEP_MIN_ROWS = 2048


@dataclass
class Evaluation:
    """Best deployments of n candidates at T throughputs.

    Attributes:
        semantics: 'native' or 'lens-dac21'.
        tu_mbps: `T` float64 throughputs (Mbit/s).
        latency_ms, energy_mj: `n x T` float64, the best latency (ms) and the best
            energy (mJ) over the deployment options.
        latency_split, energy_split: `n x T` int8 split codes of those optima
            (names in `split_names`).
        edge_compute_latency_ms, edge_compute_energy_mj: `n` float64, the whole
            network computed on the device.
        edge_bytes: bytes the all-edge option transmits (0 native, 40 lens-dac21).
        ms_per_byte, mj_per_byte: `T` float64 transmission prices of one byte.
        rtt_ms: round-trip time added to every transmitting option.
        catalog: the layer catalog of the batch; catalog_exact: how many of its
            configs the device served by exact look-up.
    """

    semantics: str
    tu_mbps: np.ndarray
    latency_ms: np.ndarray
    latency_split: np.ndarray
    energy_mj: np.ndarray
    energy_split: np.ndarray
    edge_compute_latency_ms: np.ndarray
    edge_compute_energy_mj: np.ndarray
    edge_bytes: int
    ms_per_byte: np.ndarray
    mj_per_byte: np.ndarray
    rtt_ms: float
    catalog: LayerCatalog
    catalog_exact: int
    split_names: tuple[str, ...] = field(default=())

    @property
    def n(self) -> int:
        return int(self.latency_ms.shape[0])

    @property
    def edge_latency_ms(self) -> np.ndarray:
        """`n x T` latency of the all-edge option (ms)."""
        tx = self.edge_bytes * self.ms_per_byte + (self.rtt_ms if self.edge_bytes else 0.0)
        return self.edge_compute_latency_ms[:, None] + tx[None, :]

    @property
    def edge_energy_mj(self) -> np.ndarray:
        """`n x T` energy of the all-edge option (mJ)."""
        return self.edge_compute_energy_mj[:, None] + (self.edge_bytes * self.mj_per_byte)[None, :]

    @property
    def cloud_latency_ms(self) -> np.ndarray:
        """`T` latency of the all-cloud option (ms), the same for every candidate."""
        return self.rtt_ms + INPUT_BYTES * self.ms_per_byte

    @property
    def cloud_energy_mj(self) -> np.ndarray:
        """`T` energy of the all-cloud option (mJ)."""
        return 0.0 + INPUT_BYTES * self.mj_per_byte

    def split_name(self, code: int) -> str:
        return self.split_names[int(code)]

    def records(self) -> list[dict]:
        """One dict per (candidate, tu), candidate-major (for JSON/CSV/table output)."""
        edge_lat, edge_en = self.edge_latency_ms, self.edge_energy_mj
        cloud_lat, cloud_en = self.cloud_latency_ms, self.cloud_energy_mj
        names = self.split_names
        out = []
        for i in range(self.n):
            for t, tu in enumerate(self.tu_mbps.tolist()):
                out.append(
                    {
                        "index": i,
                        "tu": tu,
                        "latency_ms": float(self.latency_ms[i, t]),
                        "latency_split": names[self.latency_split[i, t]],
                        "energy_mj": float(self.energy_mj[i, t]),
                        "energy_split": names[self.energy_split[i, t]],
                        "edge_latency_ms": float(edge_lat[i, t]),
                        "edge_energy_mj": float(edge_en[i, t]),
                        "cloud_latency_ms": float(cloud_lat[t]),
                        "cloud_energy_mj": float(cloud_en[t]),
                    }
                )
        return out


class PerformanceModel:
    """Device + radio + semantics: scores batches of architectures (Algorithm 1)."""

    def __init__(
        self,
        device: DeviceModel | str | None = None,
        tech: str = "wifi",
        *,
        radio: net.Radio | None = None,
        semantics: str = "native",
        rtt_ms: float = 0.0,
        wire_dtype: str = "float32",
    ) -> None:
        if semantics not in SEMANTICS:
            raise LensError(f"semantics must be one of {', '.join(SEMANTICS)}, got {semantics!r}")
        if wire_dtype not in WIRE_DTYPE_BYTES:
            raise LensError(
                f"wire dtype must be one of {', '.join(WIRE_DTYPE_BYTES)}, got {wire_dtype!r}"
            )
        self.device = load_device(device)
        self.radio = radio if radio is not None else net.radio(tech)
        self.semantics = semantics
        self.rtt_ms = net.check_rtt(rtt_ms)
        self.wire_dtype = wire_dtype
        dac21 = semantics == "lens-dac21"
        if dac21 and self.rtt_ms != 0.0:
            raise NetworkError(
                f"the lens-dac21 semantics has no RTT (the authors' code), got rtt {rtt_ms} ms; "
                "use --semantics native"
            )
        if dac21 and wire_dtype != "float32":
            raise LensError(
                f"the lens-dac21 semantics transmits float32, got wire dtype {wire_dtype}"
            )
        self.dac21 = dac21
        self.wire_bytes = WIRE_DTYPE_BYTES[wire_dtype]
        self.edge_bytes = NUM_CLASSES * 4 if dac21 else 0

    @property
    def split_names(self) -> tuple[str, ...]:
        return split_names(self.semantics)

    @property
    def edge_code(self) -> int:
        return edge_code(self.semantics)

    def prices(self, tu_mbps: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(tu, ms per byte, mJ per byte), each `T` float64, after validation."""
        tu = net.check_tu(tu_mbps)
        return tu, net.ms_per_byte(tu), net.mj_per_byte(tu, self.radio)

    def row_costs(self, native: np.ndarray) -> tuple[LayerCatalog, np.ndarray, np.ndarray]:
        """Catalog of a validated native batch and the row tables (latency ms, energy mJ).

        The device is asked once per catalog config it has not answered before.
        """
        cat = catalog(native, self.semantics)
        lat, pw = self.device.catalog_costs(cat)
        row_lat, row_en = row_costs(lat, pw, self.semantics)
        return cat, row_lat, row_en

    def evaluate(
        self, batch: object, tu_mbps: object, encoding: str = "native", out: dict | None = None
    ) -> Evaluation:
        """Score a batch (`n x d` ints of `encoding`) at T throughputs.

        `out` may hold preallocated `n x T` arrays under the keys latency_ms,
        latency_split, energy_mj, energy_split (reused by sweeps).
        """
        native = to_native(batch, encoding)
        tu, ms_b, mj_b = self.prices(tu_mbps)
        cat, row_lat, row_en = self.row_costs(native)
        return self._score(native, tu, ms_b, mj_b, cat, row_lat, row_en, out)

    def sweep(
        self, batch: object, tu_mbps: object, encoding: str = "native", chunk: int | None = None
    ) -> Iterator[tuple[int, Evaluation]]:
        """Score a large batch in chunks through reused buffers: yields (start row, chunk).

        The whole batch is validated and its catalog priced before the first chunk,
        so bad input fails before anything is produced. Each yielded `Evaluation`
        views buffers that the next chunk overwrites: copy what you keep.
        """
        native = to_native(batch, encoding)
        tu, ms_b, mj_b = self.prices(tu_mbps)
        cat, row_lat, row_en = self.row_costs(native)
        n, t = native.shape[0], tu.shape[0]
        step = chunk or max(SWEEP_MIN_ROWS, SWEEP_CHUNK_CELLS // t)
        width = min(step, max(n, 1))
        bufs = {
            "latency_ms": np.empty((width, t)),
            "latency_split": np.empty((width, t), dtype=np.int8),
            "energy_mj": np.empty((width, t)),
            "energy_split": np.empty((width, t), dtype=np.int8),
        }
        for start in range(0, n, step):
            part = native[start : start + step]
            yield start, self._score(part, tu, ms_b, mj_b, cat, row_lat, row_en, bufs)

    def _score(self, native, tu, ms_b, mj_b, cat, row_lat, row_en, out) -> Evaluation:
        from lens_fast.kernels.splits import score

        n, t = native.shape[0], tu.shape[0]
        bufs = out or {}
        lat = _buffer(bufs, "latency_ms", (n, t), np.float64)
        lat_code = _buffer(bufs, "latency_split", (n, t), np.int8)
        en = _buffer(bufs, "energy_mj", (n, t), np.float64)
        en_code = _buffer(bufs, "energy_split", (n, t), np.int8)
        edge_lat = np.empty(n)
        edge_en = np.empty(n)
        if n:
            score(
                native,
                self.dac21,
                self.wire_bytes,
                INPUT_BYTES,
                self.edge_bytes,
                self.rtt_ms,
                ms_b,
                mj_b,
                row_lat,
                row_en,
                *universe().index_tables(),
                lat,
                lat_code,
                en,
                en_code,
                edge_lat,
                edge_en,
            )
        if not (np.isfinite(edge_lat).all() and np.isfinite(edge_en).all()):
            raise LensError("a device cost was not finite; the profile gave NaN or inf")
        return Evaluation(
            semantics=self.semantics,
            tu_mbps=tu,
            latency_ms=lat,
            latency_split=lat_code,
            energy_mj=en,
            energy_split=en_code,
            edge_compute_latency_ms=edge_lat,
            edge_compute_energy_mj=edge_en,
            edge_bytes=self.edge_bytes,
            ms_per_byte=ms_b,
            mj_per_byte=mj_b,
            rtt_ms=self.rtt_ms,
            catalog=cat,
            catalog_exact=self.device.exact_count(cat),
            split_names=self.split_names,
        )


def _buffer(bufs: dict, key: str, shape: tuple[int, int], dtype) -> np.ndarray:
    arr = bufs.get(key)
    if arr is None:
        return np.empty(shape, dtype=dtype)
    if arr.shape[0] < shape[0] or arr.shape[1] != shape[1] or arr.dtype != dtype:
        raise LensError(f"output buffer {key} must be at least {shape} {np.dtype(dtype)}")
    return arr[: shape[0]]


def evaluate(
    batch: object,
    tu_mbps: object,
    *,
    device: DeviceModel | str | None = None,
    tech: str = "wifi",
    radio: net.Radio | None = None,
    rtt_ms: float = 0.0,
    semantics: str = "native",
    encoding: str = "native",
    wire_dtype: str = "float32",
) -> Evaluation:
    """Best split, latency and energy of every candidate at every throughput.

    batch: `n x d` ints in `encoding` ('native' d = 22, 'paper' d = 18).
    tu_mbps: `T` upload throughputs (Mbit/s), each > 0.
    device: a `DeviceModel`, a profile path, or None / 'builtin' (the builtin TX2).
    """
    model = PerformanceModel(
        device, tech, radio=radio, semantics=semantics, rtt_ms=rtt_ms, wire_dtype=wire_dtype
    )
    return model.evaluate(batch, tu_mbps, encoding)
