"""Training speed, the acceptance run, and the proxies' rank correlation with trained error.

Three parts, each optional:

1. ``throughput``: training images per second of the full recipe loop (augmentation,
   batch 32, SGD) for a small, a medium and a large architecture of the space (the
   uniform samples closest to the 10th, 50th and 90th percentiles of forward
   multiply-accumulates at 32x32 among 2,000 draws, seed 0), with all cores and with
   one thread (the reference, same run), and a compute-only rate (forward, backward
   and step on one resident batch) that bounds what the data pipeline may cost.
2. ``acceptance``: the medium architecture, 1 epoch on 5,000 CIFAR-10 training images,
   test error on the 10,000 test images.
3. ``proxy``: N architectures drawn uniformly from the space, keeping those with at
   most `--max-gmac` forward GMAC (the CPU budget), each trained briefly through the
   `train` evaluator (its cache and executor); their NASWOT and SynFlow scores, and
   the Spearman correlation (with a bootstrap 95% interval) of each score, of -log
   params and of -log MACs with the trained error. Writes the (architecture, trained
   error) table that the search benchmark uses as a fixed surrogate of real errors,
   and fits the proxies' logistic map to error.

    .venv/bin/python bench/bench_training.py [--data cifar10:DIR] [--parts throughput,acceptance,proxy]
        [--n-archs 32] [--workers 2] [--device cpu] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lens_fast.accuracy.data import load_data  # noqa: E402
from lens_fast.accuracy.models import build_model, multiply_accumulates, parameter_count  # noqa: E402
from lens_fast.accuracy.train import Recipe, default_threads, resolve_device, train_architecture  # noqa: E402
from lens_fast.report.machine import machine_info  # noqa: E402
from lens_fast.space.vgg import NATIVE_COLUMNS, decode, sample  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_DATA = f"cifar10:{(ROOT / '..' / 'shared' / 'data' / 'cifar10').resolve()}"


def reference_architectures() -> dict[str, np.ndarray]:
    """small / medium / large: samples nearest the 10/50/90th MAC percentiles (2,000 draws)."""
    draws = sample(2000, seed=0)
    macs = np.array([multiply_accumulates(decode(r)) for r in draws], dtype=np.float64)
    out = {}
    for name, q in (("small", 10), ("medium", 50), ("large", 90)):
        out[name] = draws[int(np.argmin(np.abs(macs - np.percentile(macs, q))))]
    return out


def describe_arch(row: np.ndarray) -> dict:
    arch = decode(row)
    return {"native": [int(v) for v in row], "gmac": multiply_accumulates(arch) / 1e9,
            "parameters": parameter_count(build_model(arch))}  # fmt: skip


def compute_only_rate(row, threads: int, device: str, steps: int) -> float:
    """Images/s of forward + backward + SGD step on one resident random batch of 32."""
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = build_model(decode(row)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    x = torch.randn(32, 3, 32, 32, device=device)
    y = torch.randint(0, 10, (32,), device=device)
    loss_fn = torch.nn.CrossEntropyLoss()
    for i in range(steps + 2):  # two warm-up steps
        if i == 2:
            t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return 32 * steps / (time.perf_counter() - t0)


def part_throughput(data, device: str, quick: bool) -> list[dict]:
    archs = reference_architectures()
    images = {"small": 2048, "medium": 512, "large": 160}
    rows = []
    all_threads = default_threads()
    for name, row in archs.items():
        n = images[name] // (4 if quick else 1)
        info = describe_arch(row)
        for threads in sorted({all_threads, 1}, reverse=True):
            # Warm-up run: the first steps of a process build oneDNN primitives.
            warm = Recipe(epochs=1, train_images=64, val_images=32, test_images=32)
            train_architecture(row, data, warm, device=device, threads=threads)
            recipe = Recipe(epochs=1, train_images=n, val_images=32, test_images=32)
            load0 = os.getloadavg()[0]
            r = train_architecture(row, data, recipe, device=device, threads=threads)
            steps = max(2, n // 32 // 2)
            compute = compute_only_rate(row, threads, device, steps)
            rows.append({"arch": name, **info, "threads": threads, "device": r.device,
                         "images": n, "images_per_second": r.images_per_second,
                         "compute_only_images_per_second": compute,
                         "load_avg_1m": [load0, os.getloadavg()[0]]})  # fmt: skip
            print(f"{name:6s} {info['gmac']:6.3f} GMAC {threads} thr  recipe {r.images_per_second:8.1f}"
                  f" img/s  compute-only {compute:8.1f} img/s  (load {load0:.2f})", flush=True)  # fmt: skip
    for name in archs:
        mine = {r["threads"]: r for r in rows if r["arch"] == name}
        if all_threads in mine and 1 in mine and all_threads != 1:
            ratio = mine[all_threads]["images_per_second"] / mine[1]["images_per_second"]
            mine[all_threads]["speedup_vs_1_thread"] = ratio
    return rows


def part_acceptance(data, device: str, quick: bool) -> dict:
    row = reference_architectures()["medium"]
    recipe = Recipe(epochs=1, train_images=1000 if quick else 5000, seed=0)
    load0 = os.getloadavg()[0]
    r = train_architecture(row, data, recipe, device=device)
    out = {"arch": describe_arch(row), "recipe": recipe.as_dict(), **r.as_dict(),
           "test_accuracy": 1 - r.test_error, "load_avg_1m": [load0, os.getloadavg()[0]]}  # fmt: skip
    print(f"acceptance: medium, 1 epoch on {r.train_images} images -> test accuracy "
          f"{1 - r.test_error:.4f} on {r.test_images} test images; {r.seconds:.1f} s wall "
          f"({r.train_seconds:.1f} s training, {r.images_per_second:.1f} img/s, {r.threads} threads)",
          flush=True)  # fmt: skip
    return out


def spearman_with_ci(x: np.ndarray, y: np.ndarray, boots: int = 2000) -> dict:
    from scipy.stats import spearmanr

    rho = float(spearmanr(x, y).statistic)
    rng = np.random.default_rng(0)
    reps = []
    for _ in range(boots):
        idx = rng.integers(0, len(x), len(x))
        if len(set(idx.tolist())) > 2:
            reps.append(spearmanr(x[idx], y[idx]).statistic)
    lo, hi = np.nanpercentile(reps, [2.5, 97.5])
    return {"spearman": rho, "ci95": [float(lo), float(hi)]}


def part_proxy(spec: str, args) -> dict:
    from lens_fast.accuracy.evaluators import TrainEvaluator
    from lens_fast.accuracy.executors import make_executor
    from lens_fast.accuracy.proxy import estimate_error, fit_calibration, proxy_score

    draws = sample(args.n_archs * 4, seed=args.arch_seed)
    macs = np.array([multiply_accumulates(decode(r)) for r in draws])
    keep = draws[macs <= args.max_gmac * 1e9][: args.n_archs]
    if len(keep) < args.n_archs:
        raise SystemExit(f"only {len(keep)} draws under {args.max_gmac} GMAC")
    recipe = Recipe(epochs=args.epochs, train_images=args.train_images, val_images=args.val_images,
                    test_images=args.test_images, seed=0)  # fmt: skip
    cache = Path(args.cache_dir).expanduser()
    executor = make_executor("local" if args.workers > 1 else "serial", args.workers)
    ev = TrainEvaluator(spec, recipe, executor=executor, device=args.device, cache_dir=cache)
    t0 = time.perf_counter()
    load0 = os.getloadavg()[0]
    records = ev.records(keep)
    wall = time.perf_counter() - t0
    ev.close()
    errors = np.array([r["result"]["test_error"] for r in records])
    data = ev.data
    scores = {}
    score_seconds = {}
    for kind in ("naswot", "synflow"):
        out = [proxy_score(r, data, kind=kind, batch=64, seed=0, device="cpu") for r in keep]
        scores[kind] = np.array([o["score"] for o in out])
        score_seconds[kind] = float(np.median([o["seconds"] for o in out]))
    params = np.array([parameter_count(build_model(decode(r))) for r in keep], dtype=np.float64)
    kmacs = np.array([multiply_accumulates(decode(r)) for r in keep], dtype=np.float64)
    # A useful score ranks low errors high: its Spearman rho with the error is negative.
    corr = {k: spearman_with_ci(v, errors) for k, v in scores.items()}
    corr["log_params"] = spearman_with_ci(np.log(params), errors)
    corr["log_macs"] = spearman_with_ci(np.log(kmacs), errors)
    fits = {k: fit_calibration(v, errors) for k, v in scores.items()}
    for k, fit in fits.items():
        pred = estimate_error(scores[k], k, fit)
        fit["rmse"] = float(np.sqrt(np.mean((pred - errors) ** 2)))
    table = RESULTS / "trained_errors.csv"
    with open(table, "w") as fh:
        fh.write("# test error after brief training on CIFAR-10; protocol in bench/README.md\n")
        fh.write(",".join([*NATIVE_COLUMNS, "test_error", "val_error", "train_seconds", "gmac",
                           "parameters", "naswot", "synflow"]) + "\n")  # fmt: skip
        for i, (row, rec) in enumerate(zip(keep, records, strict=True)):
            res = rec["result"]
            fh.write(",".join([*(str(int(v)) for v in row), f"{res['test_error']:.4f}",
                               f"{res['val_error'][-1]:.4f}", f"{res['train_seconds']:.2f}",
                               f"{kmacs[i] / 1e9:.4f}", str(int(params[i])),
                               f"{scores['naswot'][i]:.6f}", f"{scores['synflow'][i]:.6f}"]) + "\n")  # fmt: skip
    print(f"proxy study: {len(keep)} architectures trained in {wall:.0f} s "
          f"({ev.computed} trained, the rest from the cache); errors "
          f"{errors.min():.3f}..{errors.max():.3f} (median {np.median(errors):.3f})", flush=True)  # fmt: skip
    for k, c in corr.items():
        print(f"  Spearman({k:10s}, trained error) = {c['spearman']:+.3f}  95% CI "
              f"[{c['ci95'][0]:+.3f}, {c['ci95'][1]:+.3f}]")  # fmt: skip
    for k, f in fits.items():
        print(f"  fit {k}: a = {f['a']:.6g}, b = {f['b']:.6g}, rmse {f['rmse']:.4f}; "
              f"median scoring time {score_seconds[k]:.2f} s")  # fmt: skip
    return {"protocol": {"n_architectures": len(keep), "arch_seed": args.arch_seed,
                         "sampling": f"uniform over the space, draws with <= {args.max_gmac} forward "
                                     "GMAC at 32x32 kept in draw order",
                         "recipe": recipe.as_dict(), "data": ev.data.describe(),
                         "proxy_batch": 64, "proxy_seed": 0, "workers": args.workers},
            "wall_seconds": wall, "trained": ev.computed, "load_avg_1m": [load0, os.getloadavg()[0]],
            "errors": {"min": float(errors.min()), "median": float(np.median(errors)),
                       "max": float(errors.max())},
            "spearman_vs_error": corr, "calibration": fits, "proxy_seconds_median": score_seconds,
            "table": str(table.relative_to(ROOT))}  # fmt: skip


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--parts", default="throughput,acceptance,proxy")
    p.add_argument("--device", default="auto")
    p.add_argument("--quick", action="store_true", help="Fewer images (a smoke run).")
    p.add_argument("--n-archs", type=int, default=32)
    p.add_argument("--arch-seed", type=int, default=2021)
    p.add_argument("--max-gmac", type=float, default=1.0)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--train-images", type=int, default=2000)
    p.add_argument("--val-images", type=int, default=500)
    p.add_argument("--test-images", type=int, default=2000)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--cache-dir", default="~/.cache/lens-fast/bench-training")
    p.add_argument("--out", default=str(RESULTS / "training.json"))
    args = p.parse_args()
    parts = set(args.parts.split(","))
    device = resolve_device(args.device)
    data = load_data(args.data)
    out_path = Path(args.out)
    report = json.loads(out_path.read_text()) if out_path.exists() else {}
    report["machine"] = machine_info(torch=True)
    report["data"] = data.describe()
    if "throughput" in parts:
        report[f"throughput_{device.split(':')[0]}"] = part_throughput(data, device, args.quick)
    if "acceptance" in parts:
        report["acceptance"] = part_acceptance(data, device, args.quick)
    if "proxy" in parts:
        report["proxy"] = part_proxy(args.data, args)
    report["machine"]["load_avg_1m_end"] = os.getloadavg()[0]
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
