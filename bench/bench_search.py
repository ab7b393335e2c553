"""Search benchmarks: time per iteration, acquisition throughput, search quality.

Parts (``--part``; several may be given):

* ``timing``: one proposal (GP fit + acquisition over the pool, q = 1) of the fast
  mode with n = 50, 150, 300 observations and pools of 1k, 10k, 100k candidates, and
  of the faithful mode with pools of 1k (its cost is linear in the pool; the rate
  below says what larger pools cost) (synthetic error, LTE at 8 Mbit/s). Also the acquisition alone:
  candidates scored per second by the fast mode (GP posterior + closed-form EHVI)
  and by BoTorch's qLogNEHVI on the same pool and observations, and their ratio.
* ``faithful-pools``: the faithful proposal alone (CLI defaults: 64 QMC samples, exact
  box decompositions) at n = 50, 150, 300 with the pools of ``--faithful-pools``
  (default 10k and 100k; about half an hour here), the same observations and pools
  as ``timing``.
* ``wallclock``: a 300-evaluation fast search with the CLI defaults, timed.
* ``quality``: hypervolume against evaluations for fast, faithful, random and
  NSGA-II (pymoo) at equal evaluations (300), 5 seeds; on the synthetic error and,
  with ``--surrogate TABLE``, on a fixed GP surrogate of real trained errors.
  Each search is a run folder under ``--runs`` (resumable: a rerun continues).

    .venv/bin/python bench/bench_search.py --part timing --part quality [--surrogate T.csv]
    .venv/bin/python bench/bench_search.py --part quality --error surrogate --surrogate T.csv
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lens_fast import PerformanceModel, space  # noqa: E402
from lens_fast.report.machine import load_avg  # noqa: E402
from lens_fast.search.features import features  # noqa: E402
from lens_fast.search.mobo import Search, SearchConfig, objective_values  # noqa: E402
from lens_fast.search.pareto import hypervolume, hypervolume_trace  # noqa: E402
from lens_fast.search.runner import error_evaluator, open_run  # noqa: E402
from lens_fast.search.synthetic import synthetic_error  # noqa: E402

TU, TECH = 8.0, "lte"
BUDGET, INIT, BATCH = 300, 20, 5
SEEDS = (1, 2, 3, 4, 5)
# The faithful mode's qLogNEHVI costs minutes per iteration on this machine with exact
# box decompositions; the quality runs use BoTorch's approximate ones and a smaller pool.
FAITHFUL_POOL, FAITHFUL_MC, FAITHFUL_ALPHA = 500, 32, 1e-3


def _observed(n: int, seed: int, perf: PerformanceModel):
    batch = space.sample(n, seed)
    lat, en = objective_values(perf.evaluate(batch, [TU]), "lens")
    return batch, np.column_stack([synthetic_error(batch), lat, en])


def timing(result: dict) -> None:
    import torch

    from lens_fast.search.acquisition import ErrorPosterior, fit_gp, select_faithful, select_fast
    from lens_fast.search.mobo import reference_point

    perf = PerformanceModel("builtin", TECH)
    ref = np.asarray(reference_point(perf, TU, "lens"))
    rows = []
    print(f"\n== time per iteration (q = 1), load {load_avg():.2f}")
    print(f"{'mode':>9} {'n':>5} {'pool':>7} {'seconds':>9}")
    for n in (50, 150, 300):
        seen, obj = _observed(n, 100 + n, perf)
        for pool_n in (1_000, 10_000, 100_000):
            pool = space.sample(pool_n, 7)
            lat, en = objective_values(perf.evaluate(pool, [TU]), "lens")
            t0 = time.perf_counter()
            select_fast(features(seen), obj, features(pool), np.column_stack([lat, en]), ref, 1)
            fast_s = time.perf_counter() - t0
            rows.append({"mode": "fast", "n": n, "pool": pool_n, "seconds": fast_s})
            print(f"{'fast':>9} {n:>5} {pool_n:>7} {fast_s:>9.2f}")
            if pool_n == 1_000:  # linear in the pool: ~30 s per 1,000 here; see the rate below
                t0 = time.perf_counter()
                select_faithful(features(seen), obj, features(pool), ref, 1, seed=0)
                faithful_s = time.perf_counter() - t0
                rows.append({"mode": "faithful", "n": n, "pool": pool_n, "seconds": faithful_s})
                print(f"{'faithful':>9} {n:>5} {pool_n:>7} {faithful_s:>9.2f}")
    result["time_per_iteration"] = rows

    # Acquisition throughput at n = 300 over the same pool.
    from botorch.acquisition.multi_objective.logei import qLogNoisyExpectedHypervolumeImprovement
    from botorch.sampling import SobolQMCNormalSampler

    from lens_fast.kernels.ehvi import ehvi
    from lens_fast.search.acquisition import _front, _single_thread

    n, pool_n = 300, 100_000
    seen, obj = _observed(n, 400, perf)
    pool = space.sample(pool_n, 9)
    lat, en = objective_values(perf.evaluate(pool, [TU]), "lens")
    tx = torch.as_tensor(features(seen))
    px = torch.as_tensor(features(pool))
    gp = fit_gp(tx, torch.as_tensor(obj[:, :1]))
    front = _front(obj)
    fast_times = []
    for _ in range(3):
        t0 = time.perf_counter()
        with _single_thread():
            mu, sd = ErrorPosterior(gp, px).mean_std()
        ehvi(mu, sd, lat, en, front[:, 0].copy(), front[:, 1].copy(), front[:, 2].copy(), ref)
        fast_times.append(time.perf_counter() - t0)
    fast_rate = pool_n / statistics.median(fast_times)
    gp3 = fit_gp(tx, -torch.as_tensor(obj))
    sub = 2_000  # qLogNEHVI is scored on a slice of the same pool, then per candidate
    with _single_thread():
        acq = qLogNoisyExpectedHypervolumeImprovement(
            model=gp3,
            ref_point=(-torch.as_tensor(ref)).tolist(),
            X_baseline=tx,
            prune_baseline=True,
            sampler=SobolQMCNormalSampler(torch.Size([64]), seed=0),
        )
        t0 = time.perf_counter()
        with torch.no_grad():
            for start in range(0, sub, 500):
                acq(px[start : start + 500].unsqueeze(-2))
        botorch_rate = sub / (time.perf_counter() - t0)
    result["acquisition_rate"] = {
        "n": n,
        "pool": pool_n,
        "front_points": len(front),
        "fast_candidates_per_s": fast_rate,
        "qlognehvi_candidates_per_s": botorch_rate,
        "qlognehvi_scored": sub,
        "ratio": fast_rate / botorch_rate,
        "load": load_avg(),
    }
    print(f"\n== acquisition at n = {n}, front {len(front)} points, load {load_avg():.2f}")
    print(f"fast (posterior + EHVI kernel): {fast_rate:,.0f} candidates/s over {pool_n:,}")
    print(f"BoTorch qLogNEHVI:              {botorch_rate:,.0f} candidates/s over {sub:,}")
    print(f"ratio: {fast_rate / botorch_rate:,.0f}x")


# ------------------------------------------------------------------------- quality


def faithful_timing(result: dict, pool_sizes: list[int]) -> None:
    """Seconds of one faithful proposal (GP fits + qLogNEHVI over the pool, q = 1)."""
    from lens_fast.search.acquisition import select_faithful
    from lens_fast.search.mobo import reference_point

    perf = PerformanceModel("builtin", TECH)
    ref = np.asarray(reference_point(perf, TU, "lens"))
    rows = result.get("faithful_time_per_iteration", [])
    print(f"\n== faithful time per iteration (q = 1), load {load_avg():.2f}")
    print(f"{'n':>5} {'pool':>7} {'seconds':>9} {'load':>5}")
    for n in (50, 150, 300):
        seen, obj = _observed(n, 100 + n, perf)
        for pool_n in pool_sizes:
            pool = space.sample(pool_n, 7)
            t0 = time.perf_counter()
            select_faithful(features(seen), obj, features(pool), ref, 1, seed=0)
            seconds = time.perf_counter() - t0
            rows = [r for r in rows if (r["n"], r["pool"]) != (n, pool_n)]
            rows.append({"n": n, "pool": pool_n, "seconds": seconds, "load": load_avg()})
            print(f"{n:>5} {pool_n:>7} {seconds:>9.2f} {load_avg():>5.2f}", flush=True)
    result["faithful_time_per_iteration"] = rows


def run_mode(
    folder: Path, mode: str, seed: int, error: dict
) -> tuple[np.ndarray, float, np.ndarray]:
    """Run (or finish) one search; returns (n x 3 objectives, wall seconds in all, ref)."""
    pool = FAITHFUL_POOL if mode == "faithful" else 100_000
    cfg = SearchConfig(
        mc_samples=FAITHFUL_MC,
        partition_alpha=FAITHFUL_ALPHA,
        mode=mode,
        budget=BUDGET,
        init=INIT,
        batch=BATCH,
        pool=pool,
        tu=TU,
        tech=TECH,
        alpha=438.39,
        beta=1288.04,
        seed=seed,
        error=error,
    )
    resume = (folder / "manifest.json").exists()
    store, cfg, perf = open_run(folder, cfg, resume)
    try:
        t0 = time.perf_counter()
        trials = Search(cfg, store, perf, error_evaluator(cfg.error)).run()
        seconds = time.perf_counter() - t0
    finally:
        store.close()
    # Wall seconds summed over every process that worked on this run (resumes included).
    spent = folder.with_name(folder.name + ".seconds")
    seconds += float(spent.read_text()) if spent.exists() else 0.0
    spent.write_text(f"{seconds:.3f}\n")
    obj = np.array([(t.error, t.latency_ms, t.energy_mj) for t in trials])
    return obj, seconds, np.asarray(cfg.reference_point)


def run_nsga2(seed: int, error: dict, ref: np.ndarray) -> np.ndarray:
    """NSGA-II (pymoo) over choice indices; 15 generations of 20 = 300 evaluations."""
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.core.problem import Problem
    from pymoo.operators.crossover.sbx import SBX
    from pymoo.operators.mutation.pm import PM
    from pymoo.operators.repair.rounding import RoundingRepair
    from pymoo.operators.sampling.rnd import IntegerRandomSampling
    from pymoo.optimize import minimize

    from lens_fast.space.vgg import F_CHOICES, FC_CHOICES, K_CHOICES, L_CHOICES

    perf = PerformanceModel("builtin", TECH)
    evaluator = error_evaluator(error)
    upper = [5, 2, 2] * 5 + [5, 6, 6]  # choice indices; pool pattern; fc1, fc2 (0 = absent)
    fc = (0, *FC_CHOICES)
    history: list[np.ndarray] = []

    def decode(x: np.ndarray) -> np.ndarray:
        x = np.asarray(np.round(x), dtype=int)
        out = np.empty((len(x), 22), dtype=np.int32)
        for b in range(5):
            out[:, 3 * b] = np.asarray(F_CHOICES)[x[:, 3 * b]]
            out[:, 3 * b + 1] = np.asarray(K_CHOICES)[x[:, 3 * b + 1]]
            out[:, 3 * b + 2] = np.asarray(L_CHOICES)[x[:, 3 * b + 2]]
        out[:, 15:20] = (x[:, 15:16] != np.arange(5)).astype(np.int32)  # 5 = all pools
        fc1, fc2 = np.asarray(fc)[x[:, 16]], np.asarray(fc)[x[:, 17]]
        fc1 = np.where((fc1 == 0) & (fc2 == 0), FC_CHOICES[0], fc1)  # repair: one FC
        out[:, 20], out[:, 21] = fc1, fc2
        return out

    class Lens(Problem):
        def __init__(self):
            super().__init__(n_var=18, n_obj=3, xl=0, xu=np.asarray(upper), vtype=int)

        def _evaluate(self, x, out, *args, **kwargs):
            batch = decode(x)
            lat, en = objective_values(perf.evaluate(batch, [TU]), "lens")
            f = np.column_stack([evaluator.errors(batch), lat, en])
            history.append(f)
            out["F"] = f

    algo = NSGA2(
        pop_size=20,
        sampling=IntegerRandomSampling(),
        crossover=SBX(prob=0.9, eta=15, vtype=float, repair=RoundingRepair()),
        mutation=PM(eta=20, vtype=float, repair=RoundingRepair()),
        eliminate_duplicates=True,
    )
    minimize(Lens(), algo, ("n_evals", BUDGET), seed=seed, verbose=False)
    return np.vstack(history)[:BUDGET]


def quality(
    result: dict, runs: Path, error: dict, label: str, modes: list[str], seeds: tuple[int, ...]
) -> None:
    print(
        f"\n== search quality on {label} error: hypervolume vs evaluations, load {load_avg():.2f}"
    )
    traces: dict[str, list[list[float]]] = {m: [] for m in [*modes, "nsga2"]}
    seconds: dict[str, list[float]] = {m: [] for m in modes}
    ref = None
    for seed in seeds:
        for mode in modes:
            obj, secs, ref = run_mode(runs / label / f"{mode}-{seed}", mode, seed, error)
            traces[mode].append(hypervolume_trace(obj, ref).tolist())
            seconds[mode].append(secs)
            print(f"  seed {seed} {mode:>9}: final HV {traces[mode][-1][-1]:.6g} ({secs:.0f} s)")
        obj = run_nsga2(seed, error, ref)
        traces["nsga2"].append(hypervolume_trace(obj, ref).tolist())
        print(f"  seed {seed} {'nsga2':>9}: final HV {traces['nsga2'][-1][-1]:.6g}")
    summary = {}
    for mode, ts in traces.items():
        arr = np.asarray(ts)
        summary[mode] = {
            f"hv_at_{k}": float(np.median(arr[:, k - 1])) for k in (50, 100, 150, 200, 300)
        }
    print(f"\n{'method':>9} " + " ".join(f"{'HV@' + str(k):>11}" for k in (50, 100, 150, 200, 300)))
    for mode, row in summary.items():
        print(f"{mode:>9} " + " ".join(f"{v:>11.6g}" for v in row.values()))
    out = {
        "reference_point": ref.tolist(),
        "median_hv": summary,
        "traces": traces,
        "seconds": seconds,
        "seeds": list(seeds),
    }
    if "faithful" in traces and "fast" in traces:
        reach = []
        for fast_t, faith_t in zip(traces["fast"], traces["faithful"], strict=True):
            target = faith_t[-1]
            hit = np.flatnonzero(np.asarray(fast_t) >= target)
            reach.append(int(hit[0]) + 1 if hit.size else None)
        out["fast_evals_to_reach_faithful_final"] = reach
        # A seed that never reaches the target counts as worse than any that does.
        med = statistics.median(math.inf if r is None else r for r in reach)
        out["median_fast_evals_to_reach_faithful_final"] = med if math.isfinite(med) else None
        share = [f[-1] / g[-1] for f, g in zip(traces["fast"], traces["faithful"], strict=True)]
        out["fast_final_over_faithful_final"] = share
        print(
            f"\nfast reaches faithful's final HV after {reach} evaluations (median {med}); "
            f"fast's final / faithful's final: {', '.join(f'{x:.4f}' for x in share)}"
        )
    result[f"quality_{label}"] = out


def wallclock(result: dict, runs: Path) -> None:
    folder = runs / "wallclock"
    if folder.exists():
        import shutil

        shutil.rmtree(folder)
    folder.with_name(folder.name + ".seconds").unlink(missing_ok=True)
    t0 = time.perf_counter()
    obj, _, ref = run_mode(folder, "fast", 0, {"name": "synthetic", "version": 1})
    seconds = time.perf_counter() - t0
    result["fast_300_synthetic_seconds"] = {
        "seconds": seconds,
        "load": load_avg(),
        "hv": hypervolume(obj, ref),
    }
    print(f"\n== a 300-evaluation fast search (synthetic): {seconds:.1f} s, load {load_avg():.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--part", action="append", choices=["timing", "faithful-pools", "wallclock", "quality"]
    )
    parser.add_argument(
        "--faithful-pools", default="10000,100000", help="pool sizes of the faithful-pools part"
    )
    parser.add_argument("--surrogate", default=None, help="table of trained errors")
    parser.add_argument(
        "--error",
        action="append",
        choices=["synthetic", "surrogate"],
        help="quality: error objectives to run (default synthetic, and surrogate with --surrogate);"
        " one per process lets two processes share --runs",
    )
    parser.add_argument("--modes", default="fast,faithful,random")
    parser.add_argument(
        "--seeds",
        default=",".join(map(str, SEEDS)),
        help="quality seeds; disjoint subsets may run in parallel processes on one --runs",
    )
    parser.add_argument("--runs", default=str(ROOT / "bench" / "runs"))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "search.json"))
    args = parser.parse_args()
    out = Path(args.out)
    result = json.loads(out.read_text()) if out.exists() else {}
    result["command"] = "python " + " ".join(["bench/bench_search.py", *sys.argv[1:]])
    parts = args.part or ["timing", "wallclock", "quality"]
    runs = Path(args.runs)
    modes = args.modes.split(",")
    seeds = tuple(int(s) for s in args.seeds.split(","))
    if "timing" in parts:
        timing(result)
    if "faithful-pools" in parts:
        faithful_timing(result, [int(p) for p in args.faithful_pools.split(",")])
    if "wallclock" in parts:
        wallclock(result, runs)
    errors = args.error or ["synthetic", *(["surrogate"] if args.surrogate else [])]
    if "surrogate" in errors and not args.surrogate:
        parser.error("--error surrogate needs --surrogate TABLE")
    if "quality" in parts:
        if "synthetic" in errors:
            quality(result, runs, {"name": "synthetic", "version": 1}, "synthetic", modes, seeds)
        if "surrogate" in errors:
            quality(
                result,
                runs,
                {"name": "surrogate", "table": args.surrogate},
                "surrogate",
                modes,
                seeds,
            )
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
