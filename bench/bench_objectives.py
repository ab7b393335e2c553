"""Throughput of Algorithm 1 (validation + catalog + device + kernel) against tests/naive.py.

Two paths are timed, medians of repeats:

* single-tu evaluation (T = 1): `PerformanceModel.evaluate` on an encoded batch, a fresh
  device model each repeat so that the catalog is priced every time;
* sweeps (T > 1): `PerformanceModel.sweep`, chunks through reused buffers, file
  writing excluded.

The naive reference (tests/naive.py: rows and options once per candidate, then every
tu) runs on a subset in the same process; the table reports both rates and the ratio.

    .venv/bin/python bench/bench_objectives.py [--quick] [--out bench/results/objectives.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lens_fast import PerformanceModel, space  # noqa: E402
from lens_fast.device import BuiltinDevice  # noqa: E402
from lens_fast.report.machine import machine_info  # noqa: E402
from tests import naive  # noqa: E402


def naive_rate(batch: np.ndarray, tus: np.ndarray, semantics: str, budget_s: float) -> float:
    """Candidate-tu per second of the naive reference (rows and options once per candidate)."""
    device = BuiltinDevice()
    cost = naive.device_cost_fn(device)
    alpha, beta = 438.39, 1288.04  # LTE
    done = 0
    t0 = time.perf_counter()
    for row in batch:
        rows = (
            naive.native_rows(row, cost) if semantics == "native" else naive.dac21_rows(row, cost)
        )
        opts = naive.options(rows, semantics, 0.0)
        for tu in tus:
            ms_b, mj_b = naive.prices(float(tu), alpha, beta)
            naive.best(opts, 0, ms_b)
            naive.best(opts, 1, mj_b)
        done += 1
        if time.perf_counter() - t0 > budget_s:
            break
    return done * len(tus) / (time.perf_counter() - t0)


def time_engine(batch: np.ndarray, tus: np.ndarray, semantics: str, repeats: int) -> float:
    """Median seconds of one full scoring of `batch` at `tus` (fresh device each time)."""
    times = []
    for _ in range(repeats):
        model = PerformanceModel(BuiltinDevice(), "lte", semantics=semantics)
        t0 = time.perf_counter()
        if len(tus) == 1:
            model.evaluate(batch, tus)
        else:
            for _start, _chunk in model.sweep(batch, tus):
                pass
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke run)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "objectives.json"))
    args = parser.parse_args()
    sizes = [1_000, 10_000] if args.quick else [1_000, 10_000, 100_000, 1_000_000, 2_000_000]
    ts = [1, 64] if args.quick else [1, 4, 16, 64, 256]
    semantics_list = ["native", "lens-dac21"]
    info = machine_info()
    big = space.sample(max(sizes), seed=0)
    # Warm the JIT caches once.
    PerformanceModel("builtin", "lte").evaluate(big[:100], [1.0, 2.0])
    PerformanceModel("builtin", "lte", semantics="lens-dac21").evaluate(big[:100], [1.0, 2.0])

    rows = []
    header = f"{'semantics':>10} {'N':>9} {'T':>4} {'seconds':>9} {'cand/s':>12} {'cand-tu/s':>14} {'naive cand-tu/s':>16} {'ratio':>9}"
    print(
        f"machine: {info['cpu']}, {info['cores']} cores, numba {info['numba']} "
        f"({info['numba_threads']} threads), load {info['load_avg_1m']:.2f}"
    )
    print(header)
    for semantics in semantics_list:
        naive_rates = {
            t: naive_rate(big[:3000], np.geomspace(0.5, 50, t), semantics, budget_s=4.0) for t in ts
        }
        for t in ts:
            tus = np.geomspace(0.5, 50, t)
            for n in sizes:
                seconds = time_engine(big[:n], tus, semantics, args.repeats)
                rate = n * t / seconds
                row = {
                    "semantics": semantics,
                    "n": n,
                    "t": t,
                    "seconds": seconds,
                    "candidates_per_s": n / seconds,
                    "candidate_tu_per_s": rate,
                    "naive_candidate_tu_per_s": naive_rates[t],
                    "ratio": rate / naive_rates[t],
                }
                rows.append(row)
                print(
                    f"{semantics:>10} {n:>9} {t:>4} {seconds:>9.4f} {n / seconds:>12,.0f} "
                    f"{rate:>14,.0f} {naive_rates[t]:>16,.0f} {rate / naive_rates[t]:>9,.0f}"
                )
    info["load_avg_1m_end"] = os.getloadavg()[0]
    result = {
        "command": "python bench/bench_objectives.py" + (" --quick" if args.quick else ""),
        "machine": info,
        "repeats": args.repeats,
        "rows": rows,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
