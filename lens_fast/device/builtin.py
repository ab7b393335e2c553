"""The builtin device: a Jetson TX2-class board from datasheet figures, calibrated.

Latency of a layer is a roofline with a fixed launch cost,

    t = t0[class] + flops / (peak * eff_c[class]) + bytes / (bandwidth * eff_m[class])

and power is ``p_idle + p_dyn * u`` where ``u`` is the compute-bound share of the
layer's time. Datasheet figures (NVIDIA Jetson TX2 Module Data Sheet, DS-08404-001,
and the Jetson TX2 technical brief):

* GPU: 256 Pascal CUDA cores at up to 1.30 GHz -> 256 * 2 FLOP * 1.30 GHz = 665.6
  GFLOP/s FP32 peak.
* CPU: 2 Denver 2 + 4 Cortex-A57 cores at up to 2.0 GHz, 128-bit NEON (4 FP32 FMA
  lanes = 8 FLOP/cycle) -> 6 * 2.0 GHz * 8 = 96 GFLOP/s FP32 peak.
* Memory: 128-bit LPDDR4 at 1866 MHz -> 59.7 GB/s.
* Module power: 7.5 W (Max-Q) to 15 W (Max-P).

The efficiencies and launch costs were fitted (`calibrate`, run by
bench/calibrate_builtin.py) to the per-layer latencies that the LENS authors
measured on a TX2 with Caffe (VGG16 and AlexNet, batch 1); p_idle and p_dyn to the
whole-board powers they noted beside those measurements (GPU: VGG16 9.8 W, AlexNet
8.5 W; CPU: VGG16 9.5 W, AlexNet 8.5 W). bench/README.md reports the resulting
per-layer and total errors. No file is needed at run time.

Query-time features are those of the predictors (DESIGN.md): a conv is known by
``(in_features, k2f)``, which for the space's stride-1 'same' convs gives the exact
FLOPs ``2 * in_features * k2f``; its traffic is taken as input plus an output of the
same size (the weights and the true output size are not in the features).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lens_fast.device.model import DeviceModel
from lens_fast.device.reference_nets import RefLayer

GPU_PEAK_GFLOPS = 256 * 2 * 1.30  # 665.6
CPU_PEAK_GFLOPS = 6 * 2.0 * 8  # 96.0
MEMORY_GBPS = 128 / 8 * 1.866 * 2  # 59.7 (LPDDR4, double data rate)
BYTES_F32 = 4
CLASSES: tuple[str, ...] = ("conv", "elementwise", "pool", "fc")


@dataclass(frozen=True)
class BoardModel:
    """A calibrated roofline board model for one processor of the TX2."""

    name: str
    peak_gflops: float
    bandwidth_gbps: float
    t0_ms: dict[str, float]
    eff_compute: dict[str, float]
    eff_memory: dict[str, float]
    p_idle_w: float
    p_dyn_w: float

    def _times(self, cls: str, flops: np.ndarray, nbytes: np.ndarray):
        tc = flops / (self.peak_gflops * 1e9 * self.eff_compute[cls]) * 1e3
        tm = nbytes / (self.bandwidth_gbps * 1e9 * self.eff_memory[cls]) * 1e3
        return self.t0_ms[cls] + tc + tm, tc

    def layer(self, cls: str, flops: np.ndarray, nbytes: np.ndarray):
        """(latency ms, power W) of layers of a class from their work and traffic."""
        t, tc = self._times(cls, np.asarray(flops, float), np.asarray(nbytes, float))
        return t, self.p_idle_w + self.p_dyn_w * (tc / t)

    def reference(self, layer: RefLayer) -> tuple[float, float]:
        """(latency ms, power W) of a reference-network layer (true work and traffic)."""
        t, p = self.layer(
            ref_class(layer.kind), np.array([layer.flops]), np.array([layer.bytes_moved])
        )
        return float(t[0]), float(p[0])


def ref_class(kind: str) -> str:
    """Model class of a reference layer kind (LRN, dropout, softmax are elementwise)."""
    return kind if kind in ("conv", "pool", "fc") else "elementwise"


# Fitted by bench/calibrate_builtin.py against ../shared/data/tx2/tx2_measured_layers.csv.
TX2_GPU = BoardModel(
    name="jetson-tx2-gpu (builtin)",
    peak_gflops=GPU_PEAK_GFLOPS,
    bandwidth_gbps=MEMORY_GBPS,
    t0_ms={"conv": 0.900996, "elementwise": 0.15705, "pool": 0.274012, "fc": 0.225974},
    eff_compute={"conv": 0.939346, "elementwise": 0.381277, "pool": 0.00753943, "fc": 0.414206},
    eff_memory={"conv": 0.183714, "elementwise": 0.26097, "pool": 0.247079, "fc": 0.452328},
    p_idle_w=7.99993,
    p_dyn_w=3.81006,
)
TX2_CPU = BoardModel(
    name="jetson-tx2-cpu (builtin)",
    peak_gflops=CPU_PEAK_GFLOPS,
    bandwidth_gbps=MEMORY_GBPS,
    t0_ms={"conv": 6.23776, "elementwise": 0.0240175, "pool": 0.0001, "fc": 0.0001},
    eff_compute={"conv": 0.497059, "elementwise": 0.042116, "pool": 0.00100015, "fc": 0.0145491},
    eff_memory={"conv": 0.180322, "elementwise": 0.0360914, "pool": 0.147916, "fc": 1},
    p_idle_w=0.729372,
    p_dyn_w=10.3266,
)
BOARDS: dict[str, BoardModel] = {"tx2-gpu": TX2_GPU, "tx2-cpu": TX2_CPU}


def feature_work(op: str, x: np.ndarray) -> tuple[str, np.ndarray, np.ndarray]:
    """(class, flops, bytes) of `n x d` predictor features of one op of the space."""
    fin = x[:, 0]
    if op == "conv":
        return "conv", 2.0 * fin * x[:, 1], 2.0 * BYTES_F32 * fin
    if op == "relu":
        return "elementwise", fin, 2.0 * BYTES_F32 * fin
    if op == "batchnorm":  # normalise + scale: two elementwise passes (Caffe BatchNorm+Scale)
        return "elementwise", 4.0 * fin, 4.0 * BYTES_F32 * fin
    if op == "pool":
        return "pool", fin, BYTES_F32 * (fin + x[:, 1])
    return "fc", 2.0 * fin * x[:, 1], BYTES_F32 * (fin * x[:, 1] + fin + x[:, 1])


class BuiltinDevice(DeviceModel):
    """The calibrated TX2 board model as a device (no file needed)."""

    def __init__(self, board: str = "tx2-gpu") -> None:
        super().__init__()
        if board not in BOARDS:
            from lens_fast.errors import ProfileError

            raise ProfileError(
                f"unknown builtin device {board!r}, expected one of {', '.join(BOARDS)}"
            )
        self.board = BOARDS[board]
        self.name = self.board.name
        self.content_hash = f"builtin:{board}:v1"

    def _costs(self, op: str, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cls, flops, nbytes = feature_work(op, x)
        lat, pw = self.board.layer(cls, flops, nbytes)
        return lat, pw, np.zeros(x.shape[0], dtype=np.bool_)
