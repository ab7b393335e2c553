"""Speed of the Pareto kernels against references measured in the same run.

* 3-D hypervolume of a front vs BoTorch's `Hypervolume` (box decomposition);
* hypervolume trace (HV of the first i trials, i = 1..n) vs recomputing the exact
  hypervolume of every prefix with the same kernel (what a loop would do);
* non-dominated mask vs the O(n^2) plain-Python reference (tests/naive.py), on a subset.

Two kinds of trial sets: "search-like" (error falls as latency and energy grow, with
noise, like a run of `lens-fast search`: fronts of tens to a few hundred points) and
"all on the front" (every point non-dominated: the worst case of the trace).

    .venv/bin/python bench/bench_pareto.py [--quick] [--out bench/results/pareto.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lens_fast.report.machine import machine_info  # noqa: E402
from lens_fast.search.pareto import hypervolume, hypervolume_trace, pareto_mask  # noqa: E402
from tests import naive  # noqa: E402


def trials(n: int, kind: str, seed: int = 0) -> np.ndarray:
    """`n x 3` (error, latency ms, energy mJ)."""
    rng = np.random.default_rng(seed)
    if kind == "all-front":
        pts = rng.uniform(0.01, 1.0, (n, 3))
        return pts / pts.sum(axis=1, keepdims=True) * [0.5, 300.0, 2000.0]
    size = rng.uniform(0, 1, n)
    split = rng.uniform(0.3, 1.0, n)
    return np.column_stack(
        [
            0.12 + 0.3 * (1 - size) ** 2 + rng.uniform(0, 0.08, n),
            (8 + 250 * size**1.5 + rng.uniform(0, 30, n)) * split,
            (20 + 1500 * size**1.5 + rng.uniform(0, 200, n)) * split ** rng.uniform(0.5, 2, n),
        ]
    )


def median_s(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="Smaller sizes, fewer repeats.")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "pareto.json"))
    args = ap.parse_args()
    import torch
    from botorch.utils.multi_objective.hypervolume import Hypervolume

    repeats = 3 if args.quick else 5
    sizes = (1000,) if args.quick else (1000, 5000)
    ref = np.array([0.6, 350.0, 2500.0])
    hypervolume_trace(trials(50, "search"), ref)  # compile outside the timings
    pareto_mask(trials(50, "search"))
    rows = []
    for kind in ("search", "all-front"):
        for n in sizes:
            pts = trials(n, kind)
            mask = pareto_mask(pts)
            front = pts[mask]
            row: dict = {"kind": kind, "n": n, "front": int(mask.sum())}
            row["hv_s"] = median_s(lambda p=front: hypervolume(p, ref), repeats)
            if len(front) <= 400:
                hv_bt = Hypervolume(torch.tensor(-ref))
                neg = torch.tensor(-front)
                row["hv_botorch_s"] = median_s(lambda h=hv_bt, y=neg: h.compute(y), 1)
                row["hv_speedup"] = row["hv_botorch_s"] / row["hv_s"]
            row["trace_s"] = median_s(lambda p=pts: hypervolume_trace(p, ref), repeats)
            step = max(1, n // 200)  # prefix recomputation on every step-th prefix, scaled
            t0 = time.perf_counter()
            for i in range(0, n, step):
                hypervolume(pts[: i + 1], ref)
            row["prefix_recompute_s"] = (time.perf_counter() - t0) * step
            row["trace_speedup"] = row["prefix_recompute_s"] / row["trace_s"]
            m = min(n, 400)
            row["mask_s"] = median_s(lambda p=pts: pareto_mask(p), repeats)
            t0 = time.perf_counter()
            naive.nondominated_mask(pts[:m])
            row["mask_naive_s_per_point2"] = (time.perf_counter() - t0) / m**2
            row["mask_naive_s_scaled"] = row["mask_naive_s_per_point2"] * n**2
            row["mask_speedup"] = row["mask_naive_s_scaled"] / row["mask_s"]
            rows.append(row)

    header = (
        f"{'kind':>9} {'n':>5} {'front':>5} {'HV s':>9} {'BoTorch s':>9} {'x':>7} "
        f"{'trace s':>9} {'prefix s':>9} {'x':>7} {'mask s':>9} {'x naive':>8}"
    )
    print(header)
    for r in rows:
        bt = f"{r['hv_botorch_s']:9.4f} {r['hv_speedup']:7.0f}" if "hv_botorch_s" in r else " " * 17
        print(
            f"{r['kind']:>9} {r['n']:5d} {r['front']:5d} {r['hv_s']:9.5f} {bt} "
            f"{r['trace_s']:9.4f} {r['prefix_recompute_s']:9.3f} {r['trace_speedup']:7.0f} "
            f"{r['mask_s']:9.5f} {r['mask_speedup']:8.0f}"
        )
    out = {"machine": machine_info(), "rows": rows}
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
