"""Calibrate a roofline `BoardModel` on measured per-layer latencies and board powers.

Used to derive the builtin TX2 constants (bench/calibrate_builtin.py) and usable for
any board with a per-layer measurement table in the format of
../shared/data/tx2/tx2_measured_layers.csv (model, processor, layer, output_bytes,
latency_ms).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from lens_fast.device.builtin import CLASSES, BoardModel, ref_class
from lens_fast.device.reference_nets import REFERENCE_NETS, RefLayer
from lens_fast.errors import ProfileError

# Layer kinds the search space uses; LRN, dropout and softmax are reported, not fitted.
FITTED_KINDS = ("conv", "relu", "pool", "fc")


def matched_layers(
    measured: pd.DataFrame, model: str, processor: str
) -> list[tuple[RefLayer, float]]:
    """Pair each reference layer with its measured latency (ms); checks output sizes."""
    rows = measured[(measured["model"] == model) & (measured["processor"] == processor)]
    by_name = {r.layer: r for r in rows.itertuples()}
    pairs = []
    for layer in REFERENCE_NETS[model]():
        row = by_name.get(layer.name)
        if row is None:
            raise ProfileError(
                f"measured table has no layer {layer.name!r} for {model}/{processor}"
            )
        if int(row.output_bytes) != 4 * layer.out_elems:
            raise ProfileError(
                f"{model} {layer.name}: measured output {row.output_bytes} bytes, "
                f"reference network gives {4 * layer.out_elems}"
            )
        pairs.append((layer, float(row.latency_ms)))
    return pairs


def calibrate(
    base: BoardModel,
    measured: pd.DataFrame,
    processor: str,
    board_power_w: dict[str, float],
) -> BoardModel:
    """Fit launch costs and efficiencies (log-latency least squares), then power.

    `board_power_w` maps a model name (vgg, alexnet) to its measured average board
    power; p_idle and p_dyn solve "model-average power = measured" in least squares.
    """
    from scipy.optimize import least_squares

    pairs = [
        p
        for model in board_power_w
        for p in matched_layers(measured, model, processor)
        if p[0].kind in FITTED_KINDS
    ]
    cls_index = np.array([CLASSES.index(ref_class(layer.kind)) for layer, _ in pairs])
    flops = np.array([layer.flops for layer, _ in pairs])
    nbytes = np.array([layer.bytes_moved for layer, _ in pairs])
    target = np.log(np.array([t for _, t in pairs]))
    nc = len(CLASSES)

    def unpack(theta):
        return np.exp(theta[:nc]), np.exp(theta[nc : 2 * nc]), np.exp(theta[2 * nc :])

    def residual(theta):
        t0, ec, em = unpack(theta)
        tc = flops / (base.peak_gflops * 1e9 * ec[cls_index]) * 1e3
        tm = nbytes / (base.bandwidth_gbps * 1e9 * em[cls_index]) * 1e3
        return np.log(t0[cls_index] + tc + tm) - target

    theta0 = np.log(np.r_[np.full(nc, 0.1), np.full(nc, 0.3), np.full(nc, 0.3)])
    lower = np.log(np.r_[np.full(nc, 1e-4), np.full(nc, 1e-4), np.full(nc, 1e-4)])
    upper = np.log(np.r_[np.full(nc, 50.0), np.ones(nc), np.ones(nc)])
    fit = least_squares(residual, theta0, bounds=(lower, upper))
    t0, ec, em = unpack(fit.x)
    board = replace(
        base,
        t0_ms={c: float(v) for c, v in zip(CLASSES, t0, strict=True)},
        eff_compute={c: float(v) for c, v in zip(CLASSES, ec, strict=True)},
        eff_memory={c: float(v) for c, v in zip(CLASSES, em, strict=True)},
    )
    # Average power of a network = p_idle + p_dyn * (compute time / total time).
    share, power = [], []
    for model, watts in board_power_w.items():
        layers = [layer for layer, _ in matched_layers(measured, model, processor)]
        times = [
            board._times(ref_class(la.kind), np.array([la.flops]), np.array([la.bytes_moved]))
            for la in layers
        ]
        total = sum(float(t[0][0]) for t in times)
        compute = sum(float(t[1][0]) for t in times)
        share.append(compute / total)
        power.append(watts)
    from scipy.optimize import nnls

    design = np.column_stack([np.ones(len(share)), share])
    (p_idle, p_dyn), _ = nnls(design, np.array(power))  # both >= 0
    return replace(board, p_idle_w=float(p_idle), p_dyn_w=float(p_dyn))


def error_table(
    board: BoardModel, measured: pd.DataFrame, model: str, processor: str
) -> pd.DataFrame:
    """Per-layer measured vs builtin latency, with relative error (%)."""
    rows = []
    for layer, t_meas in matched_layers(measured, model, processor):
        t_pred, p_pred = board.reference(layer)
        rows.append(
            {
                "layer": layer.name,
                "kind": layer.kind,
                "measured_ms": t_meas,
                "builtin_ms": t_pred,
                "error_pct": (t_pred - t_meas) / t_meas * 100.0,
                "builtin_power_w": p_pred,
            }
        )
    return pd.DataFrame(rows)
