"""Per-layer analysis of one model (the paper's Fig. 1 and Fig. 2 as data).

`layer_records`: per layer its output size, the ratio to the input size, its edge
latency and energy, the cumulative share of the whole network's latency, and whether
a split may follow it (one tensor, output <= input). `option_lines`: every
deployment option as ``a + b/tu`` for latency and energy (the curves of Fig. 2),
from which any tu's cost follows exactly.
"""

from __future__ import annotations

import numpy as np

from lens_fast.runtime.sources import ModelProfile
from lens_fast.runtime.thresholds import coefficients


def layer_records(profile: ModelProfile) -> list[dict]:
    """One record per layer, network order."""
    total = float(profile.latency_ms.sum())
    cum = np.cumsum(profile.latency_ms)
    viable = profile.viable
    last = len(profile.layer_names) - 1
    out = []
    for j, name in enumerate(profile.layer_names):
        out.append(
            {
                "layer": name,
                "op": profile.kinds[j],
                "output_bytes": int(profile.output_bytes[j]),
                "ratio_to_input": float(profile.output_bytes[j] / profile.input_bytes),
                "latency_ms": float(profile.latency_ms[j]),
                "energy_mj": float(profile.energy_mj[j]),
                "cum_latency_share": float(cum[j] / total) if total > 0 else 0.0,
                "viable_split": bool(viable[j]) and j < last,
            }
        )
    return out


def option_lines(profile: ModelProfile) -> list[dict]:
    """Each option (network order) as ``latency_ms = a + b/tu``, ``energy_mj = a + b/tu``."""
    opts = profile.options()
    ka_l, kb_l = coefficients("latency", profile.radio)
    ka_e, kb_e = coefficients("energy", profile.radio)
    out = []
    for j in np.argsort(opts.code, kind="stable").tolist():
        s = float(opts.size_bytes[j])
        out.append(
            {
                "option": opts.names[j],
                "size_bytes": int(s),
                "latency_a_ms": float(opts.base_latency_ms[j] + ka_l * s),
                "latency_b_ms_mbps": kb_l * s,
                "energy_a_mj": float(opts.base_energy_mj[j] + ka_e * s),
                "energy_b_mj_mbps": kb_e * s,
            }
        )
    return out
