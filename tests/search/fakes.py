"""Made-up but valid run folders for the tests of compare and report."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lens_fast import space
from lens_fast.search.store import RunStore, Trial


def objectives(n: int, seed: int, objective: str = "lens") -> dict[str, np.ndarray]:
    """Plausible trials: a bigger model has lower error and costs more on the edge;
    the best split saves up to ~70 % of the all-edge cost."""
    rng = np.random.default_rng(seed)
    size = rng.uniform(0.0, 1.0, n)  # model "size"
    error = 0.12 + 0.3 * (1 - size) ** 2 + rng.uniform(0, 0.08, n)
    edge_latency_ms = 8 + 250 * size**1.5 + rng.uniform(0, 30, n)
    edge_energy_mj = 20 + 1500 * size**1.5 + rng.uniform(0, 200, n)
    saving = rng.uniform(0.3, 1.0, n)  # the best split costs this fraction of all-edge
    if objective == "edge":  # a search on all-edge objectives: smaller models kept
        saving = np.clip(saving + 0.2, 0.3, 1.0)
    return {
        "error": error,
        "latency_ms": edge_latency_ms * saving,
        "energy_mj": edge_energy_mj * saving,
        "edge_latency_ms": edge_latency_ms,
        "edge_energy_mj": edge_energy_mj,
    }


def make_run(
    folder: Path,
    n: int,
    seed: int,
    objective: str = "lens",
    reference_point: list[float] | None = None,
    values: dict[str, np.ndarray] | None = None,
) -> Path:
    """A run folder with `n` trials (numbers from `objectives` unless `values` is given)."""
    config: dict = {
        "mode": "fast",
        "objective": objective,
        "tech": "wifi",
        "tu": 5.0,
        "seed": seed,
        "budget": n,
    }
    if reference_point is not None:
        config["reference_point"] = reference_point
    vals = values if values is not None else objectives(n, seed, objective)
    n = len(vals["error"])
    rows = space.sample(n, seed)
    store = RunStore.create(folder, config, seed, "0" * 64)
    try:
        for i in range(n):
            store.add(
                Trial(
                    trial_id=i,
                    encoding=rows[i],
                    error=float(vals["error"][i]),
                    latency_ms=float(vals["latency_ms"][i]),
                    latency_split="all-edge",
                    energy_mj=float(vals["energy_mj"][i]),
                    energy_split="all-edge",
                    edge_latency_ms=float(vals["edge_latency_ms"][i]),
                    edge_energy_mj=float(vals["edge_energy_mj"][i]),
                    iteration=max(0, i - 10),
                    seconds=0.01,
                )
            )
    finally:
        store.close()
    return folder
