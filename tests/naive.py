"""Slow, obviously-correct references for every kernel, written from DESIGN.md.

Plain Python, one candidate at a time, no numba, no shared tables with the kernels:
layers are listed from the decoded architecture, each layer config is priced by a
scalar call to the device, and every option is evaluated and compared.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from functools import cache

import numpy as np

INPUT_BYTES = 224 * 224 * 3
CostFn = Callable[[str, int, int, int], tuple[float, float]]


def device_cost_fn(device) -> CostFn:
    """Scalar (op, in, out, k2f) -> (latency ms, power W) through the device's public API."""
    from lens_fast.space.catalog import OP_NAMES

    @cache
    def cost(op: str, fin: int, fout: int, k2f: int) -> tuple[float, float]:
        lat, pw, _ = device.costs(
            np.array([OP_NAMES.index(op)]), np.array([fin]), np.array([fout]), np.array([k2f])
        )
        return float(lat[0]), float(pw[0])

    return cost


def decode_native(row) -> dict:
    """The native encoding as a dict of plain ints."""
    row = [int(v) for v in row]
    blocks = [
        dict(f=row[3 * b], k=row[3 * b + 1], l=row[3 * b + 2], pool=row[15 + b]) for b in range(5)
    ]
    return {"blocks": blocks, "fc1": row[20], "fc2": row[21]}


def native_rows(row, cost: CostFn, wire_bytes: int = 4) -> list[tuple[str, int, float, float]]:
    """Rows (name, output bytes, latency ms, energy mJ) of the native semantics."""
    arch = decode_native(row)
    rows = []
    side, channels = 224, 3
    for b, blk in enumerate(arch["blocks"], start=1):
        f, k = blk["f"], blk["k"]
        for j in range(1, blk["l"] + 1):
            conv = cost("conv", side * side * channels, 0, k * k * f)
            bn = cost("batchnorm", side * side * f, 0, 0)
            relu = cost("relu", side * side * f, 0, 0)
            lat = conv[0] + bn[0] + relu[0]
            en = conv[0] * conv[1] + bn[0] * bn[1] + relu[0] * relu[1]
            rows.append((f"conv{b}_{j}", side * side * f * wire_bytes, lat, en))
            channels = f
        if blk["pool"]:
            pool = cost("pool", side * side * f, (side // 2) * (side // 2) * f, 0)
            side //= 2
            rows.append((f"pool{b}", side * side * f * wire_bytes, pool[0], pool[0] * pool[1]))
    features = side * side * channels
    for name in ("fc1", "fc2"):
        width = arch[name]
        if width:
            fc = cost("fc", features, width, 0)
            relu = cost("relu", width, 0, 0)
            rows.append(
                (name, width * wire_bytes, fc[0] + relu[0], fc[0] * fc[1] + relu[0] * relu[1])
            )
            features = width
    fc = cost("fc", features, 10, 0)
    rows.append(("classifier", 10 * wire_bytes, fc[0], fc[0] * fc[1]))
    return rows


def dac21_rows(row, cost: CostFn) -> list[tuple[str, int, float, float]]:
    """Rows (name, output bytes, latency ms, energy mJ) of the lens-dac21 semantics,
    after the input row: conv1, pool1, ..., conv5, pool5, fc1, fc2, classifier."""
    arch = decode_native(row)
    rows = []
    side = 224
    in_features = INPUT_BYTES  # the uint8 image: 150,528 features
    size = INPUT_BYTES
    for b, blk in enumerate(arch["blocks"], start=1):
        f, k, n_layers = blk["f"], blk["k"], blk["l"]
        conv = cost("conv", in_features, 0, k * k * f)
        bn = cost("batchnorm", side * side * f, 0, 0)
        relu = cost("relu", side * side * f, 0, 0)
        lat = n_layers * (conv[0] + bn[0] + relu[0]) / 1.6
        power = (conv[1] + bn[1] + relu[1]) / 3
        size = side * side * f * 4
        rows.append((f"conv{b}", size, lat, lat * power))
        if blk["pool"]:
            pool = cost("pool", side * side * f, (side // 2) ** 2 * f, 0)
            side //= 2
            size = side * side * f * 4
            lat = pool[0] / 1.6
            rows.append((f"pool{b}", size, lat, lat * pool[1]))
        else:
            rows.append((f"pool{b}", size, 0.0, 0.0))
        in_features = size // 4
    features = in_features
    for name in ("fc1", "fc2"):
        width = arch[name]
        if width:
            fc = cost("fc", features, width, 0)
            relu = cost("relu", width, 0, 0)
            lat = fc[0] + relu[0]
            size = width * 4
            rows.append((name, size, lat, lat * ((fc[1] + relu[1]) / 2)))
            features = width
        else:
            rows.append((name, size, 0.0, 0.0))
    fc = cost("fc", features, 10, 0)
    relu = cost("relu", 10, 0, 0)
    lat = fc[0] + relu[0]
    rows.append(("classifier", 40, lat, lat * ((fc[1] + relu[1]) / 2)))
    return rows


def options(rows, semantics: str, rtt_ms: float) -> list[tuple[str, int, float, float]]:
    """Deployment options (name, transmitted bytes, A_latency, A_energy) in row order.

    Each option costs A + bytes * price(tu); A holds the edge cost up to the cut and
    the RTT of a transmitting option (native only).
    """
    opts = [("all-cloud", INPUT_BYTES, 0.0 + rtt_ms, 0.0)]
    cum_lat = cum_en = 0.0
    for i, (name, size, lat, en) in enumerate(rows):
        cum_lat += lat
        cum_en += en
        last = i == len(rows) - 1
        if last:
            edge_bytes = 40 if semantics == "lens-dac21" else 0
            opts.append(("all-edge", edge_bytes, cum_lat + (rtt_ms if edge_bytes else 0.0), cum_en))
        elif size <= INPUT_BYTES:
            opts.append((name, size, cum_lat + rtt_ms, cum_en))
    return opts


def prices(tu: float, alpha: float, beta: float) -> tuple[float, float]:
    """(ms per byte, mJ per byte) at tu Mbit/s: 8/(tu*1000) and that * P_tx / 1000."""
    ms = 8.0 / (tu * 1000.0)
    return ms, ms * (alpha * tu + beta) / 1000.0


def best(opts, price_index: int, per_byte: float) -> tuple[float, str]:
    """Minimum cost option; ties go to fewer bytes, then to the earlier option."""
    scored = [
        (a_values[price_index] + size * per_byte, size, order, name)
        for order, (name, size, *a_values) in enumerate(opts)
    ]
    value, _, _, name = min(scored)
    return value, name


def evaluate_one(
    row,
    tu: float,
    cost: CostFn,
    semantics: str = "native",
    alpha: float = 283.17,
    beta: float = 132.86,
    rtt_ms: float = 0.0,
    wire_bytes: int = 4,
) -> dict:
    """Everything `lens_fast.evaluate` reports for one candidate at one throughput."""
    rows = native_rows(row, cost, wire_bytes) if semantics == "native" else dac21_rows(row, cost)
    opts = options(rows, semantics, rtt_ms)
    ms_b, mj_b = prices(tu, alpha, beta)
    lat, lat_name = best(opts, 0, ms_b)
    en, en_name = best(opts, 1, mj_b)
    edge = opts[-1]
    cloud = opts[0]
    return {
        "latency_ms": lat,
        "latency_split": lat_name,
        "energy_mj": en,
        "energy_split": en_name,
        "edge_latency_ms": edge[2] + edge[1] * ms_b,
        "edge_energy_mj": edge[3] + edge[1] * mj_b,
        "cloud_latency_ms": cloud[2] + cloud[1] * ms_b,
        "cloud_energy_mj": cloud[3] + cloud[1] * mj_b,
        "options": [name for name, *_ in opts],
    }


def rel_close(a: float, b: float, rtol: float = 1e-9) -> bool:
    return math.isclose(a, b, rel_tol=rtol, abs_tol=0.0)


# --------------------------------------------------------------------------- search


def ehvi_quadrature(mu, sigma, lat, en, front, ref, nodes: int = 10) -> float:
    """E[HV(front + (e, lat, en)) - HV(front)] for e ~ N(mu, sigma^2), by Gauss-Legendre
    quadrature of the exact improvement (cell counting) over mu +- 12 sigma, in panels
    no wider than sigma and split at the front's errors, where the improvement has
    kinks; sigma = 0 gives the improvement itself."""
    base = hypervolume(np.asarray(front, dtype=float).reshape(-1, 3), ref)

    def improvement(e):
        pts = np.vstack([np.asarray(front, dtype=float).reshape(-1, 3), [[e, lat, en]]])
        return hypervolume(pts, ref) - base

    if sigma == 0:
        return improvement(mu)
    lo, hi = mu - 12 * sigma, min(mu + 12 * sigma, ref[0])
    if hi <= lo:
        return 0.0
    grid = np.linspace(lo, hi, 25)  # panels no wider than sigma
    cuts = sorted({*grid.tolist(), *(float(p[0]) for p in front if lo < p[0] < hi)})
    x, w = np.polynomial.legendre.leggauss(nodes)
    total = 0.0
    for a, b in itertools.pairwise(cuts):
        for xi, wi in zip(x, w, strict=True):
            e = (a + b) / 2 + (b - a) / 2 * xi
            pdf = math.exp(-0.5 * ((e - mu) / sigma) ** 2) / (sigma * math.sqrt(2 * math.pi))
            total += (b - a) / 2 * wi * improvement(e) * pdf
    return total


# ---------------------------------------------------------------- Pareto sets (search)
def nondominated_mask(points) -> list[bool]:
    """Row i is kept unless some row j is <= in every objective and < in one (O(n^2))."""
    rows = [list(map(float, r)) for r in points]
    keep = []
    for a in rows:
        dominated = False
        for b in rows:
            if all(bv <= av for av, bv in zip(a, b, strict=True)) and any(
                bv < av for av, bv in zip(a, b, strict=True)
            ):
                dominated = True
                break
        keep.append(not dominated)
    return keep


def hypervolume(points, ref) -> float:
    """Exact hypervolume (2-D or 3-D, minimised) by counting cells of the coordinate grid.

    The grid lines are the points' coordinates (of points strictly inside `ref`) and
    `ref`; a cell is dominated when some point is <= its lower corner everywhere.
    """
    ref = [float(r) for r in ref]
    inside = [
        [float(v) for v in p]
        for p in points
        if all(float(v) < r for v, r in zip(p, ref, strict=True))
    ]
    k = len(ref)
    axes = [sorted({p[c] for p in inside} | {ref[c]}) for c in range(k)]
    total = 0.0

    def walk(c: int, corner: list[float], width: float) -> None:
        nonlocal total
        if c == k:
            if any(all(p[d] <= corner[d] for d in range(k)) for p in inside):
                total += width
            return
        for lo, hi in zip(axes[c][:-1], axes[c][1:], strict=True):
            walk(c + 1, [*corner, lo], width * (hi - lo))

    walk(0, [], 1.0)
    return total


# ------------------------------------------------------------------ runtime analysis


def crossing_tu(o1, o2, metric: str, alpha: float, beta: float) -> float | None:
    """The tu > 0 where two options (name, bytes, A_latency, A_energy) cost the same.

    latency: A1 + s1*8/(1000 tu) = A2 + s2*8/(1000 tu);
    energy: A1 + s1*8/(1000 tu)*(alpha tu + beta)/1000 = the same for option 2.
    """
    (_, s1, l1, e1), (_, s2, l2, e2) = o1, o2
    if s1 == s2:
        return None
    if metric == "latency":
        tu = 8.0 * (s1 - s2) / (1000.0 * (l2 - l1)) if l2 != l1 else math.inf
    else:
        # (e1 - e2) = (s2 - s1) * 8e-6 * (alpha + beta / tu)
        k = (e1 - e2) / ((s2 - s1) * 8e-6) - alpha
        tu = beta / k if k != 0 else math.inf
    return tu if 0 < tu < math.inf else None


def envelope(opts, metric: str, alpha: float, beta: float) -> list[tuple[str, float, float]]:
    """(option, tu_min, tu_max) over (0, inf) by brute force.

    Every pairwise crossing is a candidate breakpoint; the winner of each gap between
    candidates is `best` at a point inside it; neighbouring gaps with one winner merge.
    """
    index = 0 if metric == "latency" else 1
    cuts = sorted(
        {
            tu
            for i in range(len(opts))
            for j in range(i + 1, len(opts))
            if (tu := crossing_tu(opts[i], opts[j], metric, alpha, beta)) is not None
        }
    )
    bounds = [0.0, *cuts, math.inf]
    out: list[list] = []
    for lo, hi in itertools.pairwise(bounds):
        if lo == 0.0:
            probe = hi / 2.0 if hi < math.inf else 1.0
        elif hi == math.inf:
            probe = lo * 2.0
        else:
            probe = math.sqrt(lo * hi)
        name = best(opts, index, prices(probe, alpha, beta)[index])[1]
        if out and out[-1][0] == name:
            out[-1][2] = hi
        else:
            out.append([name, lo, hi])
    return [(name, lo, hi) for name, lo, hi in out]


def option_cost(opt, metric: str, tu: float, alpha: float, beta: float) -> float:
    """Cost of one option (name, bytes, A_latency, A_energy) at tu: A + bytes * price."""
    ms, mj = prices(tu, alpha, beta)
    return opt[2] + opt[1] * ms if metric == "latency" else opt[3] + opt[1] * mj


def simulate(opts, trace, metric: str, alpha: float, beta: float, tracker: str) -> dict:
    """Totals over a trace: each fixed option, and a tracker that picks `best` at the
    sample's tu ('current') or at the previous sample's ('previous'; the first sample
    uses its own)."""
    index = 0 if metric == "latency" else 1
    fixed = {o[0]: 0.0 for o in opts}
    dynamic = 0.0
    for t, tu in enumerate(trace):
        for o in opts:
            fixed[o[0]] += option_cost(o, metric, tu, alpha, beta)
        seen = tu if tracker == "current" or t == 0 else trace[t - 1]
        name = best(opts, index, prices(seen, alpha, beta)[index])[1]
        chosen = next(o for o in opts if o[0] == name)
        dynamic += option_cost(chosen, metric, tu, alpha, beta)
    return {"fixed": fixed, "dynamic": dynamic}
