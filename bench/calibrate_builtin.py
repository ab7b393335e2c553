"""Calibrate the builtin TX2 board models and report their per-layer and total errors.

Fits launch costs and efficiencies to the authors' measured TX2 per-layer latencies
(../shared/data/tx2/tx2_measured_layers.csv), then p_idle/p_dyn to their board powers,
prints the constants to bake into lens_fast/device/builtin.py, the per-layer error
table of VGG16 and AlexNet on GPU and CPU, and writes bench/results/builtin_calibration.json.

    .venv/bin/python bench/calibrate_builtin.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lens_fast.device.builtin import TX2_CPU, TX2_GPU  # noqa: E402
from lens_fast.device.calibrate import FITTED_KINDS, calibrate, error_table  # noqa: E402

MEASURED = ROOT / ".." / "shared" / "data" / "tx2" / "tx2_measured_layers.csv"
# Whole-board powers the LENS authors noted beside their measurements (W).
POWER_W = {"gpu": {"vgg": 9.8, "alexnet": 8.5}, "cpu": {"vgg": 9.5, "alexnet": 8.5}}


def main() -> None:
    if not MEASURED.exists():
        sys.exit(f"needs {MEASURED} (the project's shared data folder)")
    measured = pd.read_csv(MEASURED)
    result: dict = {"command": "python bench/calibrate_builtin.py", "boards": {}}
    for processor, base in (("gpu", TX2_GPU), ("cpu", TX2_CPU)):
        board = calibrate(base, measured, processor, POWER_W[processor])
        print(f"\n== {board.name}: fitted constants")
        for attr in ("t0_ms", "eff_compute", "eff_memory"):
            print(f"  {attr:12s}", {k: round(v, 6) for k, v in getattr(board, attr).items()})
        print(f"  p_idle_w {board.p_idle_w:.4f}  p_dyn_w {board.p_dyn_w:.4f}")
        entry: dict = {
            "constants": {
                "t0_ms": board.t0_ms,
                "eff_compute": board.eff_compute,
                "eff_memory": board.eff_memory,
                "p_idle_w": board.p_idle_w,
                "p_dyn_w": board.p_dyn_w,
            },
            "networks": {},
        }
        for net in ("vgg", "alexnet"):
            table = error_table(board, measured, net, processor)
            space_ops = table[table.kind.isin(FITTED_KINDS)]
            total = table.builtin_ms.sum() / table.measured_ms.sum() - 1
            total_space = space_ops.builtin_ms.sum() / space_ops.measured_ms.sum() - 1
            avg_power = (table.builtin_ms * table.builtin_power_w).sum() / table.builtin_ms.sum()
            print(
                f"\n  {net} on the TX2 {processor}: total measured {table.measured_ms.sum():.2f} ms, "
                f"builtin {table.builtin_ms.sum():.2f} ms ({total * 100:+.1f}%); "
                f"conv/relu/pool/fc only {total_space * 100:+.1f}%; "
                f"median |per-layer error| {table.error_pct.abs().median():.1f}%; "
                f"average power {avg_power:.2f} W (authors: {POWER_W[processor][net]} W)"
            )
            print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
            entry["networks"][net] = {
                "total_measured_ms": table.measured_ms.sum(),
                "total_builtin_ms": table.builtin_ms.sum(),
                "total_error_pct": total * 100,
                "total_error_space_ops_pct": total_space * 100,
                "median_abs_layer_error_pct": table.error_pct.abs().median(),
                "average_power_w": avg_power,
                "layers": table.to_dict(orient="records"),
            }
        result["boards"][processor] = entry
    out = ROOT / "bench" / "results" / "builtin_calibration.json"
    out.write_text(json.dumps(result, indent=1))
    print(f"\nwrote {out}")


if __name__ == "__main__":
    main()
