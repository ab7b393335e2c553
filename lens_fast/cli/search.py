"""`lens-fast search` and `lens-fast traditional`: Algorithm 2 into a run folder."""

from __future__ import annotations

import time
from dataclasses import fields

import click
import numpy as np

from lens_fast.cli.common import (
    emit,
    format_option,
    info,
    model_options,
    render,
    stderr_is_tty,
)
from lens_fast.errors import LensError

# Options that change the trials (checked on --resume) -> SearchConfig fields.
CONFIG_OPTIONS = {
    "mode": "mode",
    "objective": "objective",
    "budget": "budget",
    "init": "init",
    "batch": "batch",
    "pool": "pool",
    "mutations": "mutations",
    "tech": "tech",
    "alpha": "alpha",
    "beta": "beta",
    "tu": "tu",
    "rtt_ms": "rtt_ms",
    "semantics": "semantics",
    "profile": "profile",
    "wire_dtype": "wire_dtype",
    "seed": "seed",
    "mc_samples": "mc_samples",
    "partition_alpha": "partition_alpha",
}
ERROR_OPTIONS = ("error", "data", "epochs", "subset")


def search_options(f):
    """The options shared by `search` and `traditional`."""
    opts = [
        click.option(
            "--run",
            "run_dir",
            required=True,
            type=click.Path(file_okay=False),
            help="Run folder (created; or continued with --resume).",
        ),
        click.option("--resume", is_flag=True, help="Continue the run in --run where it stopped."),
        click.option(
            "--budget", type=int, default=300, show_default=True, help="Evaluations in all."
        ),
        click.option(
            "--init",
            type=int,
            default=20,
            show_default=True,
            help="Random initial candidates (C_init).",
        ),
        click.option(
            "--batch",
            type=int,
            default=5,
            show_default=True,
            help="Candidates proposed per iteration (q).",
        ),
        click.option(
            "--mode",
            type=click.Choice(["fast", "faithful", "random"]),
            default="fast",
            show_default=True,
            help="fast: exact latency/energy + closed-form EHVI; "
            "faithful: three GPs + qLogNEHVI (the paper); random: random search.",
        ),
        click.option(
            "--pool",
            type=int,
            default=None,
            help="Random candidates per acquisition pool [fast 100000, faithful 5000].",
        ),
        click.option(
            "--mc-samples",
            type=int,
            default=64,
            show_default=True,
            help="faithful: QMC samples of qLogNEHVI.",
        ),
        click.option(
            "--partition-alpha",
            type=float,
            default=0.0,
            show_default=True,
            help="faithful: BoTorch box-decomposition approximation (0 = exact).",
        ),
        click.option(
            "--mutations",
            type=int,
            default=20,
            show_default=True,
            help="Mutants per Pareto member added to each pool.",
        ),
        click.option(
            "--error",
            default="synthetic",
            show_default=True,
            help="Error objective: synthetic (a test fixture), train, proxy, "
            "or surrogate:TABLE.csv (architecture columns + error).",
        ),
        click.option("--data", default=None, help="train/proxy data: digits or cifar10:DIR."),
        click.option("--epochs", type=int, default=None, help="train: epochs per candidate."),
        click.option("--subset", type=int, default=None, help="train: training images used."),
        click.option(
            "--executor",
            type=click.Choice(["serial", "local", "dask"]),
            default=None,
            help="train/proxy: where candidates train.",
        ),
        click.option("--scheduler", default=None, help="train/proxy: Dask scheduler address."),
        click.option("--workers", type=int, default=None, help="train/proxy: local workers."),
        click.option(
            "--cache-dir",
            type=click.Path(file_okay=False),
            default=None,
            help="train/proxy: result cache shared across runs [RUN/eval-cache].",
        ),
        click.option(
            "--tu", type=float, required=True, help="Expected upload throughput (Mbit/s)."
        ),
        click.option("--seed", type=int, default=0, show_default=True),
        click.option(
            "--device",
            type=click.Choice(["auto", "cpu", "cuda"]),
            default="auto",
            show_default=True,
            help="torch device of the GP work and training.",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return model_options(format_option(f))


def _error_spec(error: str, data, epochs, subset, seed: int) -> dict:
    if error == "synthetic":
        return {"name": "synthetic", "version": 1}
    if error.startswith("surrogate:"):
        return {"name": "surrogate", "table": error.split(":", 1)[1]}
    if error in ("train", "proxy"):
        spec: dict = {"name": error, "data": data or "digits", "seed": seed}
        if error == "train":
            spec.update({"epochs": epochs, "subset": subset})
        return {k: v for k, v in spec.items() if v is not None}
    raise LensError(f"--error must be synthetic, train, proxy or surrogate:FILE, got {error!r}")


def _explicit(ctx: click.Context, names) -> set[str]:
    from click.core import ParameterSource

    return {n for n in names if ctx.get_parameter_source(n) == ParameterSource.COMMANDLINE}


def _resolve_device(device: str) -> str:
    if device != "auto":
        return device
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def _progress_printer():
    if not stderr_is_tty():
        return None
    start = time.perf_counter()

    def show(p) -> None:
        click.echo(
            f"\r[search] iteration {p.iteration} | {p.trials}/{p.budget} trials | "
            f"HV {p.hypervolume:.6g} | pending {p.pending} | {time.perf_counter() - start:.0f} s ",
            err=True,
            nl=False,
        )

    return show


def _front_records(trials, objective: str, traditional: bool) -> list[dict]:
    """The run's final Pareto set (the paper's re-scored front for Traditional runs)."""
    from lens_fast.search.pareto import pareto_mask

    if not trials:
        return []
    err = np.array([t.error for t in trials])
    part = np.column_stack([err, [t.latency_ms for t in trials], [t.energy_mj for t in trials]])
    if objective == "edge":
        edge = np.column_stack(
            [err, [t.edge_latency_ms for t in trials], [t.edge_energy_mj for t in trials]]
        )
        members = np.flatnonzero(pareto_mask(edge))
        if traditional:  # re-scored with the best split, then the front of that
            members = members[pareto_mask(part[members])]
    else:
        members = np.flatnonzero(pareto_mask(part))
    members = members[np.argsort(err[members], kind="stable")]
    out = []
    for i in members:
        t = trials[i]
        out.append(
            {
                "trial_id": t.trial_id,
                "error": t.error,
                "latency_ms": t.latency_ms,
                "latency_split": t.latency_split,
                "energy_mj": t.energy_mj,
                "energy_split": t.energy_split,
                "edge_latency_ms": t.edge_latency_ms,
                "edge_energy_mj": t.edge_energy_mj,
                "encoding": " ".join(str(int(v)) for v in t.encoding),
            }
        )
    return out


def _run(ctx: click.Context, objective: str, traditional: bool, params: dict) -> None:
    from lens_fast.network import RADIOS
    from lens_fast.search.mobo import Search, SearchConfig
    from lens_fast.search.runner import error_evaluator, open_run

    p = params
    tech = p["tech"].lower()
    alpha, beta = RADIOS.get(tech, (p["alpha"], p["beta"]))
    pool = p["pool"] if p["pool"] is not None else (5_000 if p["mode"] == "faithful" else 100_000)
    values = {
        **{field: p[opt] for opt, field in CONFIG_OPTIONS.items() if opt in p},
        "objective": objective,
        "tech": tech,
        "alpha": p["alpha"] if p["alpha"] is not None else alpha,
        "beta": p["beta"] if p["beta"] is not None else beta,
        "pool": pool,
        "error": _error_spec(p["error"], p["data"], p["epochs"], p["subset"], p["seed"]),
    }
    if values["alpha"] is None or values["beta"] is None:
        raise LensError(f"unknown radio technology {p['tech']!r}; give --alpha and --beta")
    config = SearchConfig(
        **{k: v for k, v in values.items() if k in {f.name for f in fields(SearchConfig)}}
    )
    explicit = _explicit(ctx, [o for o in CONFIG_OPTIONS if o != "objective"])
    if _explicit(ctx, ERROR_OPTIONS):
        explicit.add("error")
    store, config, perf = open_run(p["run_dir"], config, p["resume"], explicit)
    evaluator = None
    try:
        spec = dict(config.error)
        if spec["name"] in ("train", "proxy"):
            spec["cache_dir"] = p["cache_dir"] or str(store.folder / "eval-cache")
            for key in ("executor", "scheduler", "workers"):
                if p[key] is not None:
                    spec[key] = p[key]
            spec["device"] = p["device"]
        evaluator = error_evaluator(spec)
        device = _resolve_device(p["device"])
        search = Search(config, store, perf, evaluator, _progress_printer(), device=device)
        t0 = time.perf_counter()
        before = len(store.trial_ids())
        trials = search.run()
        if stderr_is_tty():
            click.echo("", err=True)
        records = _front_records(trials, config.objective, traditional)
        from lens_fast.search.pareto import hypervolume

        hv = hypervolume(search.objective_points(trials), search.ref)
        info(
            f"{'traditional' if traditional else 'search'}: {len(trials) - before} new trials "
            f"({len(trials)} in the run) in {time.perf_counter() - t0:.1f} s; front "
            f"{len(records)} points; hypervolume {hv:.6g}; run {store.folder}"
        )
        emit(render(records, p["fmt"]))
    finally:
        if evaluator is not None:
            evaluator.close()
        store.close()


@click.command()
@search_options
@click.option(
    "--objective",
    type=click.Choice(["lens", "edge"]),
    default="lens",
    show_default=True,
    help="lens: best split (LENS); edge: all-edge (platform-aware search).",
)
@click.pass_context
def search(ctx, objective, **params):
    """Multi-objective search (error, latency, energy) into a run folder."""
    _run(ctx, objective, traditional=False, params=params)


@click.command()
@search_options
@click.pass_context
def traditional(ctx, **params):
    """The paper's Traditional baseline: an all-edge search, its front re-scored with the best split."""
    _run(ctx, "edge", traditional=True, params=params)
