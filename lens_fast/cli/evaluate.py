"""`lens-fast evaluate` and `lens-fast sweep`: Algorithm 1 on batches of architectures."""

from __future__ import annotations

import time

import click

from lens_fast.cli.common import (
    emit,
    format_option,
    info,
    load_batch,
    model_options,
    performance_model,
    render,
    source_options,
    stderr_is_tty,
)

RECORD_COLUMNS = (
    "index",
    "tu",
    "latency_ms",
    "latency_split",
    "energy_mj",
    "energy_split",
    "edge_latency_ms",
    "edge_energy_mj",
    "cloud_latency_ms",
    "cloud_energy_mj",
)


@click.command()
@source_options
@click.option(
    "--tu",
    "tu",
    type=float,
    multiple=True,
    required=True,
    help="Upload throughput in Mbit/s (repeat for several).",
)
@model_options
@format_option
def evaluate(
    arch_file,
    n_random,
    seed,
    encoding,
    tu,
    tech,
    alpha,
    beta,
    rtt_ms,
    semantics,
    profile,
    wire_dtype,
    fmt,
):
    """Best deployment (split, latency, energy) of each architecture at each tu."""
    batch = load_batch(arch_file, n_random, seed, encoding)
    model = performance_model(tech, alpha, beta, rtt_ms, semantics, profile, wire_dtype)
    ev = model.evaluate(batch, list(tu))
    emit(render(ev.records(), fmt, RECORD_COLUMNS))


def _grid(tu, tu_grid, log):
    from lens_fast.network import check_tu
    from lens_fast.network import tu_grid as make_grid

    if bool(tu) == bool(tu_grid):
        raise click.UsageError("give either --tu X [--tu Y ...] or --tu-grid START:STOP:COUNT")
    return make_grid(tu_grid, log) if tu_grid else check_tu(list(tu))


@click.command()
@source_options
@click.option(
    "--tu", "tu", type=float, multiple=True, help="Upload throughput in Mbit/s (repeatable)."
)
@click.option("--tu-grid", default=None, help="START:STOP:COUNT throughputs (inclusive).")
@click.option("--log", is_flag=True, help="Log-spaced --tu-grid.")
@model_options
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    required=True,
    help="Output file: .npz (n x T arrays) or .parquet (one row per candidate and tu).",
)
@click.option("--chunk", type=int, default=None, help="Candidates per chunk (default: by T).")
def sweep(
    arch_file,
    n_random,
    seed,
    encoding,
    tu,
    tu_grid,
    log,
    tech,
    alpha,
    beta,
    rtt_ms,
    semantics,
    profile,
    wire_dtype,
    out_path,
    chunk,
):
    """Score N candidates x T throughputs into a compact file."""
    from lens_fast.report.files import sweep_writer

    grid = _grid(tu, tu_grid, log)
    batch = load_batch(arch_file, n_random, seed, encoding)
    model = performance_model(tech, alpha, beta, rtt_ms, semantics, profile, wire_dtype)
    n, t = batch.shape[0], grid.shape[0]
    meta = {
        "semantics": semantics,
        "tech": model.radio.name,
        "alpha": model.radio.alpha_mw_per_mbps,
        "beta": model.radio.beta_mw,
        "rtt_ms": rtt_ms,
        "device": model.device.name,
        "device_hash": model.device.content_hash,
        "wire_dtype": wire_dtype,
        "n": n,
        "t": t,
    }
    writer = sweep_writer(out_path, n, grid, model.split_names, meta)
    engine_s = 0.0
    done = 0
    bar = (
        click.progressbar(length=n, label="sweep", file=click.get_text_stream("stderr"))
        if stderr_is_tty()
        else None
    )
    # A fresh process loads the compiled kernels (numba's cache) on their first call:
    # a one-row call does it before the clock starts, and is reported apart.
    t0 = time.perf_counter()
    if n:
        model.evaluate(batch[:1], grid[:1])
    load_s = time.perf_counter() - t0
    try:
        t0 = time.perf_counter()
        stream = model.sweep(batch, grid, chunk=chunk)
        cat = None
        for start, ev in stream:
            engine_s += time.perf_counter() - t0
            cat = ev.catalog
            exact = ev.catalog_exact
            writer.write(start, ev)
            done += ev.n
            if bar is not None:
                bar.update(ev.n)
            t0 = time.perf_counter()
        path = writer.close()
    except BaseException:
        writer.abort()
        raise
    finally:
        if bar is not None:
            bar.finish()
            click.echo("", err=True)
    rate = n * t / engine_s if engine_s > 0 else float("inf")
    configs = (
        ""
        if cat is None
        else f"; catalog {len(cat)} configs ({exact} exact, {len(cat) - exact} predicted)"
    )
    info(
        f"sweep: {n} candidates x {t} tu = {n * t} candidate-tu in {engine_s:.3f} s "
        f"({rate:,.0f} candidate-tu/s; file writing and {load_s:.2f} s of kernel loading "
        f"excluded){configs}; wrote {path}"
    )
