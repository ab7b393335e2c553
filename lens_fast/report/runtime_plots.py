"""Figures of the runtime analysis (matplotlib, Agg): analyze, regions, simulate.

* `plot_analysis`: per-layer latency with its cumulative share, per-layer output
  size against the input size (viable splits marked), and the latency and energy of
  every viable option against tu with the envelope and its thresholds (the paper's
  Fig. 1 and Fig. 2).
* `plot_regions`: countries' upload throughput per region against the thresholds,
  and how many countries of each region each option wins.
* `plot_simulation`: a throughput trace over the option bands of the envelope, and
  cumulative costs of fixed options against the switching tracker (Fig. 8).

Each option keeps one colour across the panels of a figure.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lens_fast.errors import InputFileError

EDGE_COLOR = "#4d4d4d"
CLOUD_COLOR = "#1f77b4"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _colors(names: list[str]) -> dict[str, str]:
    """A colour per option: all-cloud blue, all-edge dark grey, cuts from tab10."""
    palette = ["#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]
    palette += ["#bcbd22", "#7f7f7f", "#aec7e8", "#98df8a", "#ffbb78", "#c5b0d5"]
    out: dict[str, str] = {}
    k = 0
    for name in names:
        if name in out:
            continue
        if name == "all-cloud":
            out[name] = CLOUD_COLOR
        elif name == "all-edge":
            out[name] = EDGE_COLOR
        else:
            out[name] = palette[k % len(palette)]
            k += 1
    return out


def _save(fig, path: str | Path) -> Path:
    path = Path(path)
    try:
        fig.savefig(path, dpi=110, bbox_inches="tight")
    except OSError as exc:
        raise InputFileError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        _pyplot().close(fig)
    return path


def _legend_with_thresholds(ax, env, loc: str = "best", outside: bool = False) -> None:
    """The axes' legend followed by the envelope's switches ('a -> b: x Mbit/s')."""
    from matplotlib.lines import Line2D

    handles, labels = ax.get_legend_handles_labels()
    blank = Line2D([], [], linestyle="", marker="")
    handles.append(blank)
    labels.append("thresholds:" if env.breakpoints.size else f"{env.names[0]} wins at every tu")
    for a, b, t in zip(env.names[:-1], env.names[1:], env.breakpoints, strict=True):
        handles.append(blank)
        labels.append(f"{a} \u2192 {b} at {t:.4g} Mbit/s")
    anchor = {"bbox_to_anchor": (1.01, 1.0)} if outside else {}
    ax.legend(handles, labels, fontsize=8, loc=loc, **anchor)


def _plain_log_ticks(axis) -> None:
    """Plain numbers (0.5, 2, 10) on a log axis instead of powers of ten."""
    from matplotlib.ticker import FuncFormatter

    def label(v: float, _pos: object) -> str:
        mantissa = v / 10.0 ** np.floor(np.log10(v)) if v > 0 else 0.0
        return f"{v:g}" if np.isclose(mantissa, [1.0, 2.0, 5.0]).any() else ""

    axis.set_major_formatter(FuncFormatter(label))
    axis.set_minor_formatter(FuncFormatter(label))


def _tu_range(envs) -> tuple[float, float]:
    br = np.concatenate([e.breakpoints for e in envs.values()])
    if br.size == 0:
        return 0.1, 1000.0
    return max(1e-3, float(br.min()) / 10.0), min(1e5, float(br.max()) * 10.0)


# ------------------------------------------------------------------- analyze


def plot_analysis(profile, opts, envs, path: str | Path) -> Path:
    """Fig. 1 (per layer) and Fig. 2 (options against tu) of one model."""
    from lens_fast.runtime.thresholds import UNITS, option_costs

    plt = _pyplot()
    n = len(profile.layer_names)
    x = np.arange(n)
    names = list(profile.layer_names)
    width = max(14.0, 0.22 * n + 8.0)
    fig, axes = plt.subplots(2, 2, figsize=(width, 10), gridspec_kw={"width_ratios": [1.4, 1]})
    fig.suptitle(f"{profile.name}: per-layer analysis and deployment options", fontsize=12)
    step = max(1, n // 60)

    ax = axes[0, 0]
    ax.bar(x, profile.latency_ms, color="#6baed6", label="layer latency")
    ax.set_ylabel("edge latency per layer (ms)")
    ax.set_title("(a) latency per layer and cumulative share")
    twin = ax.twinx()
    total = profile.latency_ms.sum()
    share = 100.0 * np.cumsum(profile.latency_ms) / total if total > 0 else np.zeros(n)
    twin.plot(x, share, color="#d62728", marker=".", label="cumulative share")
    twin.set_ylabel("cumulative share of latency (%)")
    twin.set_ylim(0, 105)
    lines = ax.get_legend_handles_labels()
    more = twin.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left", fontsize=8)

    ax = axes[1, 0]
    ratio = profile.output_bytes / profile.input_bytes
    viable = profile.viable.copy()
    viable[-1] = False
    ax.bar(x[viable], ratio[viable], color="#2ca02c", label="viable split (one tensor, <= input)")
    other = ~viable
    other[-1] = False
    ax.bar(x[other], ratio[other], color="#bdbdbd", label="not a split point")
    ax.bar(x[-1:], ratio[-1:], color=EDGE_COLOR, label="last layer (all-edge sends nothing)")
    ax.axhline(1.0, color="k", linestyle="--", linewidth=1, label="input size (all-cloud)")
    ax.set_yscale("log")
    ax.set_ylabel("output size / input size")
    ax.set_title(f"(b) output size per layer (input {int(profile.input_bytes):,} bytes)")
    ax.legend(fontsize=8, loc="upper right")
    labels = [
        name if name.startswith(kind.lower()) else f"{name} ({kind})"
        for name, kind in zip(names, profile.kinds, strict=True)
    ]
    for a in (axes[0, 0], axes[1, 0]):
        a.set_xticks(x[::step])
        a.set_xticklabels(labels[::step], rotation=90, fontsize=7)
        a.set_xlim(-0.7, n - 0.3)
    axes[1, 0].set_xlabel("layer (network order)")

    lo, hi = _tu_range(envs)
    tu = np.geomspace(lo, hi, 400)
    colors = _colors([n for e in envs.values() for n in e.names] + ["all-cloud", "all-edge"])
    for ax, metric, tag in ((axes[0, 1], "latency", "(c)"), (axes[1, 1], "energy", "(d)")):
        env = envs[metric]
        costs = option_costs(opts, metric, tu, profile.radio)
        shown = set(env.names) | {"all-cloud", "all-edge"}
        others = [j for j, name in enumerate(opts.names) if name not in shown]
        for k, j in enumerate(others):
            ax.plot(tu, costs[j], color="#d9d9d9", linewidth=0.8,
                    label=f"other viable options ({len(others)})" if k == 0 else None)  # fmt: skip
        best = costs.min(axis=0)
        top = 1.5 * best.max()
        for name in sorted(shown, key=lambda nm: opts.code[opts.index(nm)]):
            j = opts.index(name)
            tag_win = " (wins somewhere)" if name in env.names else ""
            if costs[j].min() > top:
                tag_win = f" (above the plot: >= {costs[j].min():.4g} {UNITS[metric]})"
            ax.plot(tu, costs[j], color=colors.setdefault(name, "#000000"), linewidth=1.6,
                    label=f"{name}{tag_win}")  # fmt: skip
        ax.plot(tu, best, color="k", linestyle=":", linewidth=2.2, label="best (envelope)")
        for b in env.breakpoints:
            ax.axvline(b, color="k", linewidth=0.8, alpha=0.6, linestyle="--")
        ax.set_xscale("log")
        ax.set_ylim(0.9 * best.min(), top)
        ax.set_xlabel("upload throughput tu (Mbit/s)")
        ax.set_ylabel(f"{metric} ({UNITS[metric]})")
        ax.set_title(f"{tag} {metric} of each option against tu (dashed: thresholds)")
        _legend_with_thresholds(ax, env, loc="upper left", outside=True)
        ax.grid(True, which="both", alpha=0.25)
    fig.tight_layout()
    return _save(fig, path)


# ------------------------------------------------------------------- regions


def plot_regions(records: list[dict], envs, title: str, path: str | Path) -> Path:
    """Countries per region against the thresholds; options won per region."""
    plt = _pyplot()
    region_names = sorted({r["region"] for r in records})
    all_names = [n for e in envs.values() for n in e.names]
    colors = _colors(all_names)
    fig, axes = plt.subplots(1, 3, figsize=(18, 6), gridspec_kw={"width_ratios": [1.3, 1, 1]})
    fig.suptitle(f"{title}: winning deployment option by country", fontsize=12)

    ax = axes[0]
    rng = np.random.default_rng(0)
    for k, region in enumerate(region_names):
        rows = [r for r in records if r["region"] == region]
        xs = k + rng.uniform(-0.25, 0.25, len(rows))
        ax.scatter(xs, [r["upload_mbps"] for r in rows],
                   c=[colors[r["latency_option"]] for r in rows], s=22, edgecolors="k",
                   linewidths=0.3, zorder=3)  # fmt: skip
    for metric, style in (("latency", "-"), ("energy", "--")):
        for b in envs[metric].breakpoints:
            ax.axhline(b, color="k", linestyle=style, linewidth=0.9, alpha=0.7)
    ax.set_yscale("log")
    _plain_log_ticks(ax.yaxis)
    ax.set_xticks(range(len(region_names)))
    ax.set_xticklabels(region_names, rotation=30, ha="right")
    ax.set_ylabel("average upload throughput (Mbit/s)")
    ax.set_title("countries (colour: latency winner); lines: thresholds")
    handles = [plt.Line2D([], [], marker="o", linestyle="", color=colors[n], label=n)
               for n in dict.fromkeys(r["latency_option"] for r in records)]  # fmt: skip
    for metric, style in (("latency", "-"), ("energy", "--")):
        env = envs[metric]
        handles.append(plt.Line2D([], [], color="k", linestyle=style,
                                  label=f"{metric} thresholds" if env.breakpoints.size
                                  else f"{metric}: {env.names[0]} at every tu"))  # fmt: skip
        for a, b, t in zip(env.names[:-1], env.names[1:], env.breakpoints, strict=True):
            handles.append(plt.Line2D([], [], linestyle="", marker="",
                                      label=f"  {a} \u2192 {b} at {t:.4g} Mbit/s"))  # fmt: skip
    ax.legend(handles=handles, fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2),
              ncol=2, frameon=False)  # fmt: skip
    ax.grid(True, axis="y", which="both", alpha=0.25)

    for ax, metric in ((axes[1], "latency"), (axes[2], "energy")):
        key = f"{metric}_option"
        names = list(dict.fromkeys(envs[metric].names))
        bottom = np.zeros(len(region_names))
        for name in names:
            counts = np.array(
                [
                    sum(1 for r in records if r["region"] == g and r[key] == name)
                    for g in region_names
                ]
            )
            ax.bar(range(len(region_names)), counts, bottom=bottom, color=colors[name], label=name)
            bottom += counts
        ax.set_xticks(range(len(region_names)))
        ax.set_xticklabels(region_names, rotation=30, ha="right")
        ax.set_ylabel("countries")
        ax.set_title(f"{metric}: winning option per region")
        ax.legend(fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


# ------------------------------------------------------------------ simulate


def plot_simulation(sim, env, title: str, column: str, path: str | Path) -> Path:
    """Trace over the envelope's bands, and cumulative costs (the paper's Fig. 8)."""
    plt = _pyplot()
    t = np.arange(1, sim.tu_mbps.shape[0] + 1)
    colors = _colors([*env.names, "all-cloud", "all-edge"])
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(15, 9), sharex=True)
    fig.suptitle(f"{title}: {sim.metric} over trace {column} ({sim.tracker} tracker)", fontsize=12)
    lo = min(float(sim.tu_mbps.min()), *(env.breakpoints.tolist() or [np.inf])) / 1.5
    hi = max(float(sim.tu_mbps.max()), *(env.breakpoints.tolist() or [0.0])) * 1.5
    span = np.log(hi / lo)
    for name, a, b in zip(env.names, env.tu_min, env.tu_max, strict=True):
        a, b = max(a, lo), min(b, hi)
        if b <= a:
            continue
        top.axhspan(a, b, color=colors[name], alpha=0.13)
        if np.log(b / a) > 0.06 * span:  # label bands tall enough to read
            top.annotate(f"{name} wins", (1.0, np.sqrt(a * b)), xycoords=("axes fraction", "data"),
                         ha="right", va="center", fontsize=8, color=colors[name])  # fmt: skip
    for b in env.breakpoints:
        top.axhline(b, color="k", linestyle="--", linewidth=1)
    top.plot(t, sim.tu_mbps, color="k", linewidth=1, zorder=2)
    chosen = [sim.names[j] for j in sim.chosen]
    for name in dict.fromkeys(chosen):
        sel = np.array([c == name for c in chosen])
        top.scatter(t[sel], sim.tu_mbps[sel], color=colors.get(name, "k"), edgecolors="k",
                    linewidths=0.4, s=30, zorder=3, label=f"tracker uses {name}")  # fmt: skip
    top.set_yscale("log")
    top.set_ylim(lo, hi)
    _plain_log_ticks(top.yaxis)
    top.set_ylabel("upload throughput (Mbit/s)")
    top.set_title("trace and the option bands of the envelope (dashed: thresholds)")
    _legend_with_thresholds(top, env, loc="upper left", outside=True)
    top.grid(True, which="both", alpha=0.25)

    unit = sim.unit
    gains = sim.gain_pct
    shown = [n for n in sim.names if n in set(env.names) | {"all-cloud", "all-edge"}]
    for name in shown:
        j = sim.names.index(name)
        bottom.plot(t, np.cumsum(sim.costs[j]), color=colors.get(name, "k"), linewidth=1.5,
                    label=f"fixed {name}: {sim.costs[j].sum():,.0f} {unit} "
                          f"(switching saves {gains[name]:.1f}%)")  # fmt: skip
    bottom.plot(t, np.cumsum(sim.dynamic), color="k", linewidth=2.5, linestyle="--",
                label=f"switching ({sim.tracker}): {sim.dynamic_total:,.0f} {unit}")  # fmt: skip
    bottom.set_xlabel("trace sample (one inference per sample)")
    bottom.set_ylabel(f"cumulative {sim.metric} ({unit})")
    bottom.set_title("cumulative cost: fixed options against switching at the thresholds")
    bottom.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    bottom.grid(True, alpha=0.25)
    fig.tight_layout()
    return _save(fig, path)
