"""Speed and exactness of the runtime analysis, with references measured in the same run.

* Exact envelopes (latency and energy) of N candidates of the space with the batch
  kernel (`runtime.thresholds.batch_envelopes`, row costs included) against
  - the naive brute-force envelope of tests/naive.py (every pairwise crossing, argmin
    in each gap), timed on a subset and extrapolated per candidate;
  - the core scoring every candidate on a 256-point log grid of tu (what one would do
    without the envelope: `PerformanceModel.sweep`; thresholds only to grid resolution);
* `lens-fast thresholds --arch-file F --all` end to end (a fresh process: imports,
  reading the file, kernels, writing the .npz);
* regions: which candidate wins each of the 106 countries (`batch_regions`);
* exactness: the core's best split at 200 throughputs inside the intervals of each of
  1,000 candidates, and the two neighbours' costs at every breakpoint (naive options).

    .venv/bin/python bench/bench_runtime.py [--n 100000] [--out bench/results/runtime.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lens_fast import PerformanceModel, space  # noqa: E402
from lens_fast.report.machine import load_avg, machine_info  # noqa: E402
from lens_fast.runtime.regions import batch_regions, read_countries  # noqa: E402
from lens_fast.runtime.thresholds import batch_envelopes  # noqa: E402
from lens_fast.space.io import write_architectures  # noqa: E402
from tests import naive  # noqa: E402

COUNTRIES = ROOT / ".." / "shared" / "data" / "network" / "upload_mbps_by_country.csv"


def median_s(fn, repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def naive_options(row, model, cost):
    rows = naive.native_rows(row, cost, model.wire_bytes)
    return naive.options(rows, model.semantics, model.rtt_ms)


def naive_envelopes(batch, model) -> None:
    cost = naive.device_cost_fn(model.device)
    alpha, beta = model.radio.alpha_mw_per_mbps, model.radio.beta_mw
    for row in batch:
        opts = naive_options(row, model, cost)
        naive.envelope(opts, "latency", alpha, beta)
        naive.envelope(opts, "energy", alpha, beta)


def grid_scan(model, batch, grid) -> None:
    for _ in model.sweep(batch, grid):
        pass


def interior_points(tu_min: np.ndarray, total: int = 200) -> tuple[np.ndarray, np.ndarray]:
    m = tu_min.shape[0]
    ends = np.append(tu_min[1:], np.inf)
    share = np.full(m, total // m)
    share[: total - share.sum()] += 1
    pts, which = [], []
    for q in range(m):
        lo, hi = tu_min[q], ends[q]
        if m == 1:
            lo, hi = 1e-3, 1e4
        elif q == 0:
            lo = hi / 1000.0
        elif q == m - 1:
            hi = lo * 1000.0
        frac = (np.arange(share[q]) + 0.5) / share[q]
        pts.append(lo * (hi / lo) ** frac)
        which.append(np.full(share[q], q))
    return np.concatenate(pts), np.concatenate(which)


def exactness(model, n: int = 1000, seed: int = 11) -> dict:
    """Every point's option against the core; breakpoint equality with naive options."""
    batch = space.sample(n, seed=seed)
    envs = batch_envelopes(model, batch)
    names = np.array(model.split_names, dtype=object)
    cost = naive.device_cost_fn(model.device)
    alpha, beta = model.radio.alpha_mw_per_mbps, model.radio.beta_mw
    points = mismatches = breakpoints = 0
    worst = 0.0
    for i in range(n):
        opts = {o[0]: o for o in naive_options(batch[i], model, cost)}
        for metric in ("latency", "energy"):
            env = envs.candidate(i, metric)
            tus, which = interior_points(env.tu_min)
            ev = model.evaluate(batch[i : i + 1], tus)
            split = ev.latency_split if metric == "latency" else ev.energy_split
            got = names[split[0]]
            mismatches += int((got != np.array(env.names, dtype=object)[which]).sum())
            points += tus.shape[0]
            for a, b, tu in zip(env.names[:-1], env.names[1:], env.breakpoints, strict=True):
                ca = naive.option_cost(opts[a], metric, float(tu), alpha, beta)
                cb = naive.option_cost(opts[b], metric, float(tu), alpha, beta)
                worst = max(worst, abs(ca - cb) / max(abs(ca), abs(cb)))
                breakpoints += 1
    return {
        "candidates": n,
        "points": points,
        "mismatches": mismatches,
        "breakpoints": breakpoints,
        "worst_breakpoint_rel_diff": worst,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--naive-n", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--tech", default="lte")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "runtime.json"))
    args = ap.parse_args()

    model = PerformanceModel("builtin", args.tech)
    batch = space.sample(args.n, seed=2021)
    results: dict = {"machine": machine_info(), "n": args.n, "tech": args.tech, "rows": []}
    results["load_avg_1m_start"] = load_avg()
    batch_envelopes(model, batch[:1000])  # compile / load the cached kernels

    kernel_s, kernel_all = median_s(lambda: batch_envelopes(model, batch), args.repeats)
    envs = batch_envelopes(model, batch)
    sub = batch[: args.naive_n]
    naive_s, naive_all = median_s(lambda: naive_envelopes(sub, model), 3)
    naive_full_s = naive_s / args.naive_n * args.n
    grid = np.geomspace(0.1, 1000.0, 256)
    grid_scan(model, batch[:2000], grid)
    grid_s, grid_all = median_s(lambda: grid_scan(model, batch, grid), 3)
    countries = read_countries(COUNTRIES)
    regions_s, regions_all = median_s(lambda: batch_regions(model, batch, countries), 3)

    with tempfile.TemporaryDirectory() as tmp:
        archs = Path(tmp) / "archs.csv"
        write_architectures(archs, batch)
        cmd = [str(ROOT / ".venv" / "bin" / "lens-fast"), "thresholds", "--arch-file",
               str(archs), "--all", "--tech", args.tech, "--out", str(Path(tmp) / "e.npz")]  # fmt: skip
        cli_times = []
        for _ in range(3):
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            cli_times.append(time.perf_counter() - t0)
        cli_s = statistics.median(cli_times)

    exact = exactness(model)
    results["load_avg_1m_end"] = load_avg()

    rows = [
        ("envelopes, batch kernel (both metrics)", args.n, kernel_s, kernel_all, 1.0),
        (f"naive brute force (tests/naive.py; {args.naive_n} timed, extrapolated)", args.n,
         naive_full_s, naive_all, naive_full_s / kernel_s),
        ("core on a 256-point tu grid (sweep; grid-resolution thresholds)", args.n, grid_s,
         grid_all, grid_s / kernel_s),
        ("regions: best candidate in each of 106 countries (core, batch)", args.n, regions_s,
         regions_all, regions_s / kernel_s),
        ("`lens-fast thresholds --all` end to end (fresh process, file in/out)", args.n, cli_s,
         cli_times, cli_s / kernel_s),
    ]  # fmt: skip
    print(f"machine: {results['machine']}; load (1 min) {results['load_avg_1m_start']} -> "
          f"{results['load_avg_1m_end']}")  # fmt: skip
    print(f"{'what':<72} {'n':>8} {'median s':>10} {'x kernel':>9}")
    for what, n, s, all_s, ratio in rows:
        print(f"{what:<72} {n:>8} {s:>10.3f} {ratio:>9.1f}")
        results["rows"].append(
            {"what": what, "n": n, "median_s": s, "runs_s": all_s, "ratio_to_kernel": ratio}
        )
    counts = {m: np.bincount(envs.of(m).counts).tolist() for m in ("latency", "energy")}
    results["envelope_lengths"] = counts
    results["option_counts"] = {m: envs.option_counts(m) for m in ("latency", "energy")}
    results["exactness"] = exact
    print(f"envelope lengths (candidates with 0, 1, 2, ... intervals): {counts}")
    print(
        f"exactness: {exact['candidates']} candidates, {exact['points']} points, "
        f"{exact['mismatches']} mismatches with the core; {exact['breakpoints']} breakpoints, "
        f"worst relative difference of the neighbours' costs {exact['worst_breakpoint_rel_diff']:.2e}"
    )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
