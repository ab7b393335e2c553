"""Device profiling and predictors: validation on the TX2 data and on this machine.

Three phases (``all`` runs them in order):

* ``tx2``: fit the predictors on the ``random`` rows of
  ../shared/data/tx2/tx2_layer_profile.csv; held-out MAPE per (op, target) over
  three seeds of the 80/20 split, the power law alone on the same split as the
  reference, MAPE on the table's ``vgg_space`` rows; then per-layer latency of
  Caffe VGG16 and AlexNet predicted and compared with the TX2 measurements of
  ../shared/data/tx2/tx2_measured_layers.csv (GPU and CPU columns), per layer and in
  total. -> bench/results/profile_tx2.json
* ``cpu``: profile this CPU with the CLI (resumable; a finished table is only
  summarised): ``lens-fast profile run --device cpu --configs both --threads 1
  --clock cpu --power-w 3.5 --out bench/results/profile_cpu_table.csv``. The rows
  carry both clocks (``wall_ms``, ``cpu_ms``); ``--clock cpu`` makes ``latency_ms``
  the compute thread's CPU time, which the other work on this shared 2-core machine
  does not inflate. -> bench/results/profile_cpu.json
* ``e2e``: ``lens-fast profile fit`` and ``lens-fast evaluate --profile`` (all-edge
  latency) on 50 random architectures of the space, against their real end-to-end
  latency in torch here (`build_model` at 224x224, batch 1, one thread; round-robin
  over the architectures, a warm-up then timed calls per round, median), by both
  clocks. Variants: the CPU-clock profile (exact look-ups), the same fitted on its
  random rows only (every layer predicted), and the wall-clock profile taken from
  the same rows. Spearman rank correlation and predicted/measured ratios.
  -> bench/results/profile_e2e.json

    .venv/bin/python bench/bench_profile.py {tx2,cpu,e2e,all} [--rounds 2] [--n 50]

The 1-minute load average is recorded with every timing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lens_fast.device import predictors as pred  # noqa: E402
from lens_fast.device.reference_features import predict_reference  # noqa: E402
from lens_fast.device.table import OP_FEATURES, from_frame  # noqa: E402
from lens_fast.report.machine import machine_info  # noqa: E402

SHARED = (ROOT / ".." / "shared" / "data" / "tx2").resolve()
RESULTS = ROOT / "bench" / "results"
CPU_TABLE = RESULTS / "profile_cpu_table.csv"
LENS = str(ROOT / ".venv" / "bin" / "lens-fast")
CPU_RUN = ["profile", "run", "--device", "cpu", "--configs", "both", "--threads", "1",
           "--clock", "cpu", "--power-w", "3.5", "--out", str(CPU_TABLE)]  # fmt: skip


def mape(pred_v: np.ndarray, true_v: np.ndarray) -> float:
    return float(np.mean(np.abs(pred_v - true_v) / true_v) * 100.0)


# ------------------------------------------------------------------------------ tx2


def powerlaw_holdout(frame: pd.DataFrame, op: str, target: str, seed: int) -> float:
    """Held-out MAPE of the power law alone, on the split `predictors.fit_op` uses."""
    rows = frame[frame["op"] == op]
    x = np.log(np.maximum(rows[list(OP_FEATURES[op])].to_numpy(float), 1.0))
    y = rows[target].to_numpy(float)
    order = np.random.default_rng(seed).permutation(len(rows))
    n_test = max(1, len(rows) // 5)
    test, train = order[:n_test], order[n_test:]
    design = np.column_stack([np.ones(len(x)), x])
    coef, *_ = np.linalg.lstsq(design[train], np.log(y[train]), rcond=None)
    return mape(np.exp(design[test] @ coef), y[test])


def phase_tx2() -> dict:
    raw = pd.read_csv(SHARED / "tx2_layer_profile.csv")
    random_t = from_frame(raw[raw["origin"] == "random"], {"device": "tx2 (random rows)"})
    vgg_t = from_frame(raw[raw["origin"] == "vgg_space"], {"device": "tx2 (vgg_space rows)"})
    heldout: dict = {}
    fitted = None
    fit_s = []
    for seed in (0, 1, 2):
        t0 = time.perf_counter()
        ps = pred.fit(random_t, seed=seed)
        fit_s.append(time.perf_counter() - t0)
        fitted = fitted or ps
        for (op, target), p in ps.predictors.items():
            heldout.setdefault(f"{op}/{target}", []).append(p.mape_pct)
    assert fitted is not None
    ops = sorted(set(random_t.frame["op"]))
    held_rows = []
    for op in ops:
        for target in pred.TARGETS:
            vals = heldout[f"{op}/{target}"]
            held_rows.append({
                "op": op, "target": target,
                "rows": int((random_t.frame["op"] == op).sum()),
                "heldout_mape_pct_seed0": vals[0], "heldout_mape_pct_max3": max(vals),
                "powerlaw_only_mape_pct_seed0": powerlaw_holdout(random_t.frame, op, target, 0),
            })  # fmt: skip
    vgg_rows = []
    vf = vgg_t.frame
    for op in ops:
        rows = vf[vf["op"] == op]
        lat, pw = fitted.predict(op, rows[list(OP_FEATURES[op])].to_numpy(float))
        vgg_rows.append({"op": op, "rows": len(rows),
                         "latency_mape_pct": mape(lat, rows["latency_ms"].to_numpy()),
                         "power_mape_pct": mape(pw, rows["power_w"].to_numpy()),
                         "latency_max_ape_pct": float(np.max(np.abs(lat / rows["latency_ms"] - 1)) * 100)})  # fmt: skip
    nets = {}
    measured = pd.read_csv(SHARED / "tx2_measured_layers.csv")
    for model in ("vgg", "alexnet"):
        nets[model] = compare_reference(fitted, model, measured)
    return {"machine": machine_info(), "fit_seconds": fit_s, "heldout": held_rows,
            "vgg_space": vgg_rows, "reference_nets": nets}  # fmt: skip


MLP_NAMES = {"conv": "CNN", "relu": "Relu", "pool": "Pool", "fc": "Fc", "batchnorm": "Norm"}


def mlp_latency_ms(mlps: dict, op: str, feats: list) -> float:
    """The authors' Keras latency MLP for `op` (the source of the TX2 table), in float64."""
    m = mlps[f"{MLP_NAMES[op]}_Latency"]
    h = (np.asarray(feats, float) - np.asarray(m["mean"], float)) / np.sqrt(
        np.asarray(m["variance"], float)
    )
    for j, layer in enumerate(m["dense"]):
        h = h @ np.asarray(layer["kernel"], float) + np.asarray(layer["bias"], float)
        if j < len(m["dense"]) - 1:
            h = np.maximum(h, 0.0)
    return float(np.ravel(h)[0])


def compare_reference(fitted, model: str, measured: pd.DataFrame) -> dict:
    out: dict = {}
    mlps = json.loads((SHARED / "lens_tx2_mlp_predictors.json").read_text())
    for mapping in ("equivalent", "raw"):
        frame = predict_reference(fitted, model, mapping)
        frame["mlp_latency_ms"] = [
            mlp_latency_ms(mlps, op, f) if isinstance(op, str) else float("nan")
            for op, f in zip(frame["op"], frame["features"], strict=True)
        ]
        for proc in ("gpu", "cpu"):
            m = measured[(measured["model"] == model) & (measured["processor"] == proc)]
            meas = dict(zip(m["layer"], m["latency_ms"], strict=True))
            frame[f"{proc}_ms"] = frame["layer"].map(meas)
        cov = frame["op"].notna()
        res: dict = {"layers": frame.to_dict("records")} if mapping == "equivalent" else {}
        ours, mlp = (
            frame.loc[cov, "pred_latency_ms"].to_numpy(),
            frame.loc[cov, "mlp_latency_ms"].to_numpy(),
        )
        res["xgboost_vs_authors_mlp"] = {"per_layer_mape_pct": mape(ours, mlp),
                                         "mlp_total_ms": float(mlp.sum()),
                                         "total_ratio": float(ours.sum() / mlp.sum())}  # fmt: skip
        for proc in ("gpu", "cpu"):
            p, t = (
                frame.loc[cov, "pred_latency_ms"].to_numpy(),
                frame.loc[cov, f"{proc}_ms"].to_numpy(),
            )
            res[proc] = {"covered_layers": int(cov.sum()), "pred_total_ms": float(p.sum()),
                         "measured_total_ms": float(t.sum()),
                         "total_ratio": float(p.sum() / t.sum()),
                         "per_layer_mape_pct": mape(p, t),
                         "per_layer_median_ape_pct": float(np.median(np.abs(p / t - 1)) * 100),
                         "uncovered_measured_ms": float(frame.loc[~cov, f"{proc}_ms"].sum()),
                         "uncovered": frame.loc[~cov, "layer"].tolist()}  # fmt: skip
            res[proc]["by_kind"] = {
                kind: {"layers": int(sel.sum()),
                       "pred_total_ms": float(frame.loc[sel, "pred_latency_ms"].sum()),
                       "measured_total_ms": float(frame.loc[sel, f"{proc}_ms"].sum()),
                       "per_layer_mape_pct": mape(frame.loc[sel, "pred_latency_ms"].to_numpy(),
                                                  frame.loc[sel, f"{proc}_ms"].to_numpy())}
                for kind in ("conv", "relu", "pool", "fc")
                for sel in [(frame["kind"] == kind).to_numpy()]
            }  # fmt: skip
        out[mapping] = res
    return out


def print_tx2(res: dict) -> None:
    print("TX2 predictors, fitted on the random rows (held-out 20%, 3 seeds)")
    print(f"{'op':>9} {'target':>10} {'rows':>5} {'MAPE s0':>8} {'max 3':>7} {'power law':>9}")
    for r in res["heldout"]:
        print(f"{r['op']:>9} {r['target']:>10} {r['rows']:>5} {r['heldout_mape_pct_seed0']:>7.2f}% "
              f"{r['heldout_mape_pct_max3']:>6.2f}% {r['powerlaw_only_mape_pct_seed0']:>8.2f}%")  # fmt: skip
    print("on the vgg_space rows:")
    for r in res["vgg_space"]:
        print(f"{r['op']:>9} rows {r['rows']:>4}  latency {r['latency_mape_pct']:.2f}%  "
              f"power {r['power_mape_pct']:.2f}%  (max latency error {r['latency_max_ape_pct']:.1f}%)")  # fmt: skip
    for model, by_map in res["reference_nets"].items():
        for mapping, r in by_map.items():
            for proc in ("gpu", "cpu"):
                c = r[proc]
                print(f"{model:>7} {mapping:>10} vs TX2 {proc}: predicted {c['pred_total_ms']:.1f} ms, "
                      f"measured {c['measured_total_ms']:.1f} ms (ratio {c['total_ratio']:.2f}), "
                      f"per-layer MAPE {c['per_layer_mape_pct']:.0f}% (median {c['per_layer_median_ape_pct']:.0f}%)")  # fmt: skip
                if mapping == "equivalent":
                    print("        " + ", ".join(
                        f"{k} {v['pred_total_ms']:.1f}/{v['measured_total_ms']:.1f} ms "
                        f"(MAPE {v['per_layer_mape_pct']:.0f}%)" for k, v in c["by_kind"].items()))  # fmt: skip
            x = r["xgboost_vs_authors_mlp"]
            print(f"        XGBoost vs the authors' MLP on these layers: per-layer MAPE "
                  f"{x['per_layer_mape_pct']:.1f}%, totals {x['total_ratio']:.3f}")  # fmt: skip


# ------------------------------------------------------------------------------ cpu


def phase_cpu(passes: int, pause_s: float) -> dict:
    """Run the profile; rows disturbed by other processes (cpu_share < 0.9 even after
    the profiler's own retries) are dropped and measured again in a later pass."""
    from lens_fast.device.profiler import MIN_CPU_SHARE

    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    dropped = []
    for p in range(passes):
        subprocess.run([LENS, *CPU_RUN], check=True)
        table = pd.read_csv(CPU_TABLE)
        bad = table["cpu_share"] < MIN_CPU_SHARE
        print(f"pass {p + 1}: {int(bad.sum())} of {len(table)} rows disturbed", flush=True)
        if not bad.any() or p == passes - 1:
            break
        dropped.append(int(bad.sum()))
        table[~bad].to_csv(CPU_TABLE, index=False)  # the rerun measures them again
        time.sleep(pause_s)
    wall = time.perf_counter() - t0
    table = pd.read_csv(CPU_TABLE)
    meta = json.loads(CPU_TABLE.with_name(CPU_TABLE.stem + ".meta.json").read_text())
    runs = meta.get("runs", [])
    keys = table.groupby(["op", "in_features", "out_features", "k2f"], dropna=False).ngroups
    by_op = table.groupby(["origin", "op"]).size()
    return {
        "machine": machine_info(), "command": "lens-fast " + " ".join(CPU_RUN),
        "device": meta["device"], "torch": meta["torch"], "meter": meta["meter"],
        "rows": len(table), "distinct_configs": int(keys),
        "rows_by_origin_op": {f"{o}/{op}": int(n) for (o, op), n in by_op.items()},
        "measuring_seconds_all_runs": round(sum(r.get("elapsed_s", 0.0) for r in runs), 1),
        "runs": runs, "this_call_wall_s": round(wall, 1), "load_at_call": load0,
        "dropped_per_pass": dropped,
        "cpu_share": {"min": float(table["cpu_share"].min()),
                      "median": float(table["cpu_share"].median()),
                      "below_0.9": int((table["cpu_share"] < 0.9).sum())},
        "row_load1": {"min": float(table["load1"].min()), "median": float(table["load1"].median()),
                      "max": float(table["load1"].max())},
        "median_iqr_over_latency": float((table["latency_iqr_ms"] / table["latency_ms"]).median()),
    }  # fmt: skip


# ------------------------------------------------------------------------------ e2e


def cli(*args: str) -> str:
    done = subprocess.run([LENS, *args], check=True, capture_output=True, text=True)
    return done.stdout


def predicted_edge_ms(profile_dir: Path, arch_file: Path) -> np.ndarray:
    out = cli("evaluate", "--arch-file", str(arch_file), "--tu", "10", "--profile",
              str(profile_dir), "--format", "json")  # fmt: skip
    records = sorted(json.loads(out), key=lambda r: r["index"])
    return np.asarray([r["edge_latency_ms"] for r in records])


def measure_e2e(batch: np.ndarray, threads: int, rounds: int, timed: int, seed: int) -> dict:
    """Real end-to-end latency of each architecture by both clocks, round-robin.

    Each round builds every model (shuffled order), makes one warm-up call and `timed`
    timed calls (wall and compute-thread CPU time of each); a call whose process got
    less than 90% of its CPU time is measured again once after a pause. The result
    per architecture is the median over rounds of each round's median.
    """
    import torch

    from lens_fast.accuracy.models import build_model
    from lens_fast.device.profiler import time_undisturbed
    from lens_fast.space.vgg import decode

    torch.set_num_threads(threads)
    n = batch.shape[0]
    wall: list[list[float]] = [[] for _ in range(n)]
    cpu: list[list[float]] = [[] for _ in range(n)]
    loads: list[float] = []
    shares: list[float] = []
    x = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    rng = np.random.default_rng(seed)
    for r in range(rounds):
        for i in rng.permutation(n):
            model = build_model(decode(batch[i]), input_side=224).eval()
            with torch.inference_mode():
                t = time_undisturbed(partial(model, x), None, None, 1, timed, 1e-9, threads, 1)
            wall[i].append(t.wall_ms)
            cpu[i].append(t.cpu_ms)
            shares.append(t.cpu_share)
            loads.append(os.getloadavg()[0])
            del model
        print(f"e2e round {r + 1}/{rounds} done, load {os.getloadavg()[0]:.2f}", flush=True)
    return {
        "wall_ms": [float(np.median(v)) for v in wall], "cpu_ms": [float(np.median(v)) for v in cpu],
        "rounds_wall_ms": wall, "rounds_cpu_ms": cpu,
        "load1": {"min": min(loads), "median": float(np.median(loads)), "max": max(loads)},
        "cpu_share": {"min": min(shares), "median": float(np.median(shares)),
                      "below_0.9": int(sum(v < 0.9 for v in shares))},
    }  # fmt: skip


# variant -> (rows of the CPU table, latency column used, measured clock compared with)
E2E_VARIANTS = {
    "cpu_clock": ("all", "cpu_ms", "cpu_ms"),
    "cpu_clock_random_rows": ("random", "cpu_ms", "cpu_ms"),
    "wall_clock": ("all", "wall_ms", "wall_ms"),
}


def phase_e2e(n: int, rounds: int, timed: int, seed: int) -> dict:
    from scipy.stats import spearmanr

    from lens_fast.space.io import write_architectures
    from lens_fast.space.vgg import sample

    meta = json.loads(CPU_TABLE.with_name(CPU_TABLE.stem + ".meta.json").read_text())
    table = pd.read_csv(CPU_TABLE)
    batch = sample(n, seed)
    res: dict = {"machine": machine_info(), "n": n, "seed": seed, "rounds": rounds,
                 "timed_calls_per_round": timed, "threads": meta["threads"],
                 "device": meta["device"], "table": str(CPU_TABLE.relative_to(ROOT)),
                 "variants": {}}  # fmt: skip
    preds = {}
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        arch_file = write_architectures(tmp / "archs.csv", batch)
        for name, (rows, column, _) in E2E_VARIANTS.items():
            sub = table if rows == "all" else table[table["origin"] == rows]
            path = tmp / f"{name}.csv"
            sub.assign(latency_ms=sub[column]).to_csv(path, index=False)
            path.with_name(f"{name}.meta.json").write_text(json.dumps(
                {**meta, "device": f"{meta['device']} [{column}, {rows} rows]"}))  # fmt: skip
            t0 = time.perf_counter()
            out = cli("profile", "fit", str(path), "--out", str(tmp / name), "--format", "json")
            fit_s = time.perf_counter() - t0
            preds[name] = predicted_edge_ms(tmp / name, arch_file)
            res["variants"][name] = {"rows": rows, "latency_column": column,
                                     "fit_seconds": round(fit_s, 1),
                                     "heldout_mape": json.loads(out)}  # fmt: skip
    t0 = time.perf_counter()
    real = measure_e2e(batch, int(meta["threads"]), rounds, timed, seed)
    res["measure_seconds"] = round(time.perf_counter() - t0, 1)
    res["measured"] = real
    for name, (_, _, clock) in E2E_VARIANTS.items():
        p, meas = preds[name], np.asarray(real[clock])
        ratio = p / meas
        res["variants"][name].update(
            measured_clock=clock, predicted_ms=p.tolist(),
            spearman=float(spearmanr(p, meas).statistic),
            total_ratio=float(p.sum() / meas.sum()), ratio_median=float(np.median(ratio)),
            ratio_min=float(ratio.min()), ratio_max=float(ratio.max()),
        )  # fmt: skip
    return res


def print_e2e(res: dict) -> None:
    m = res["measured"]
    print(f"end-to-end, {res['n']} architectures, {res['device']}, load {m['load1']}, "
          f"CPU share {m['cpu_share']}")  # fmt: skip
    for clock in ("cpu_ms", "wall_ms"):
        print(
            f"measured {clock}: total {sum(m[clock]):.0f} ms, median arch {np.median(m[clock]):.1f} ms"
        )
    for name, r in res["variants"].items():
        print(f"{name:>22}: Spearman {r['spearman']:.4f}, predicted/measured total "
              f"{r['total_ratio']:.3f}, per arch median {r['ratio_median']:.3f} "
              f"({r['ratio_min']:.3f}..{r['ratio_max']:.3f})")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("phase", choices=["tx2", "cpu", "e2e", "all"])
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--timed", type=int, default=2, help="Timed calls per architecture and round.")
    ap.add_argument(
        "--passes", type=int, default=1, help="cpu: profile passes (disturbed rows redone)."
    )
    ap.add_argument("--pause", type=float, default=60.0, help="cpu: seconds between passes.")
    args = ap.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.phase in ("tx2", "all"):
        res = phase_tx2()
        (RESULTS / "profile_tx2.json").write_text(json.dumps(res, indent=1))
        print_tx2(res)
    if args.phase in ("cpu", "all"):
        res = phase_cpu(args.passes, args.pause)
        (RESULTS / "profile_cpu.json").write_text(json.dumps(res, indent=1))
        print(json.dumps({k: v for k, v in res.items() if k != "runs"}, indent=1))
    if args.phase in ("e2e", "all"):
        res = phase_e2e(args.n, args.rounds, args.timed, args.seed)
        (RESULTS / "profile_e2e.json").write_text(json.dumps(res, indent=1))
        print_e2e(res)


if __name__ == "__main__":
    main()
