"""Algorithm 2: multi-objective Bayesian optimisation over the VGG space.

`C_init` random valid candidates, then iterations of q proposals until the budget
is spent. Every proposal is a pure function of (the configuration, the seed, the
iteration, the trials of earlier iterations): each iteration draws its own random
generator from (seed, iteration) and seeds torch the same way. So a run killed at
any moment and resumed re-proposes exactly the candidates it would have evaluated,
evaluates only the slots not yet committed, and ends with the same trials as an
uninterrupted run.

Modes: ``fast`` (exact latency/energy, GP on error, closed-form EHVI over large
pools), ``faithful`` (the paper: three GPs and qLogNEHVI) and ``random`` (uniform
samples: the random-search baseline). Objectives: ``lens`` (best split) or
``edge`` (all-edge: the Traditional baseline).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from lens_fast.accuracy.base import ErrorEvaluator
from lens_fast.errors import LensError, RunStoreError
from lens_fast.objectives import PerformanceModel
from lens_fast.search.features import features
from lens_fast.search.pareto import hypervolume, pareto_mask
from lens_fast.search.store import RunStore, Trial
from lens_fast.space.vgg import mutate, row_keys, sample

MODES = ("fast", "faithful", "random")
OBJECTIVES = ("lens", "edge")
REFERENCE_SAMPLES = 10_000


@dataclass(frozen=True)
class SearchConfig:
    """Everything that determines a search's trials (stored in the run manifest)."""

    mode: str = "fast"
    objective: str = "lens"
    budget: int = 300
    init: int = 20
    batch: int = 1
    pool: int = 100_000
    mutations: int = 20
    tech: str = "wifi"
    alpha: float = 283.17
    beta: float = 132.86
    tu: float = 10.0
    rtt_ms: float = 0.0
    semantics: str = "native"
    profile: str = "builtin"
    wire_dtype: str = "float32"
    seed: int = 0
    mc_samples: int = 64  # faithful: QMC samples of qLogNEHVI
    partition_alpha: float = 0.0  # faithful: BoTorch box-decomposition approximation (0 = exact)
    error: dict = field(default_factory=lambda: {"name": "synthetic", "version": 1})
    reference_point: tuple[float, float, float] | None = None

    def check(self) -> None:
        if self.mode not in MODES:
            raise LensError(f"mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if self.objective not in OBJECTIVES:
            raise LensError(f"objective must be lens or edge, got {self.objective!r}")
        for name, value, low in (
            ("budget", self.budget, 1),
            ("init", self.init, 1),
            ("batch", self.batch, 1),
            ("pool", self.pool, 1),
        ):
            if value < low:
                raise LensError(f"--{name} must be >= {low}, got {value}")
        if self.init > self.budget:
            raise LensError(
                f"--init must be <= --budget, got init {self.init} > budget {self.budget}"
            )
        if not np.isfinite(self.tu) or self.tu <= 0:
            raise LensError(f"tu must be > 0 Mbit/s and finite, got {self.tu}")

    def as_dict(self) -> dict:
        data = asdict(self)
        data["reference_point"] = (
            None if self.reference_point is None else list(self.reference_point)
        )
        return data


def slots(config: SearchConfig) -> list[tuple[int, int, int]]:
    """(iteration, first trial id, size) of every batch: init, then q at a time."""
    out = [(0, 0, config.init)]
    start, it = config.init, 1
    while start < config.budget:
        size = min(config.batch, config.budget - start)
        out.append((it, start, size))
        start += size
        it += 1
    return out


def objective_values(ev, objective: str) -> tuple[np.ndarray, np.ndarray]:
    """(latency ms, energy mJ) of an `Evaluation` at its single tu, per objective."""
    if objective == "edge":
        return ev.edge_latency_ms[:, 0], ev.edge_energy_mj[:, 0]
    return ev.latency_ms[:, 0], ev.energy_mj[:, 0]


def reference_point(
    perf: PerformanceModel, tu: float, objective: str
) -> tuple[float, float, float]:
    """Error 1, and 1.1 x the worst latency and energy of 10,000 fixed random candidates."""
    lat, en = objective_values(perf.evaluate(sample(REFERENCE_SAMPLES, 0), [tu]), objective)
    return 1.0, float(1.1 * lat.max()), float(1.1 * en.max())


@dataclass
class Progress:
    """What a progress display needs after each committed batch."""

    iteration: int
    trials: int
    budget: int
    hypervolume: float
    pending: int


class Search:
    """A search bound to its run store, performance model and error evaluator."""

    def __init__(
        self,
        config: SearchConfig,
        store: RunStore,
        perf: PerformanceModel,
        evaluator: ErrorEvaluator,
        on_progress: Callable[[Progress], None] | None = None,
        device: str = "cpu",
    ) -> None:
        self.config = config
        self.store = store
        self.perf = perf
        self.evaluator = evaluator
        self.on_progress = on_progress
        self.ref = np.asarray(config.reference_point, dtype=np.float64)
        self.device = device  # torch device of the GP work (not part of the configuration)

    # ------------------------------------------------------------------ driver
    def run(self) -> list[Trial]:
        """Evaluate every missing slot in order; returns all trials."""
        cfg = self.config
        done = self.store.trial_ids()
        trials = {t.trial_id: t for t in self.store.trials()}
        for iteration, start, size in slots(cfg):
            ids = list(range(start, start + size))
            if all(i in done for i in ids):
                continue
            earlier = [trials[i] for i in range(start)]
            batch = self.propose(iteration, earlier, size)
            for j, tid in enumerate(ids):
                if tid in trials and not np.array_equal(trials[tid].encoding, batch[j]):
                    raise RunStoreError(
                        f"resume diverged at trial {tid}: the run holds another architecture than "
                        "this configuration proposes (was it made by another lens-fast version?)"
                    )
            todo = [j for j, tid in enumerate(ids) if tid not in done]
            self._report(iteration, trials, pending=len(todo))
            for trial in self.evaluate(iteration, batch[todo], [ids[j] for j in todo]):
                self.store.add(trial)
                trials[trial.trial_id] = trial
                done.add(trial.trial_id)
            self._report(iteration, trials, pending=0)
        return [trials[i] for i in sorted(trials)]

    def _report(self, iteration: int, trials: dict[int, Trial], pending: int) -> None:
        if self.on_progress is None:
            return
        obj = self.objective_points(list(trials.values()))
        hv = hypervolume(obj, self.ref) if len(obj) else 0.0
        self.on_progress(Progress(iteration, len(trials), self.config.budget, hv, pending))

    # ------------------------------------------------------------- evaluation
    def evaluate(self, iteration: int, batch: np.ndarray, ids: list[int]) -> list[Trial]:
        """Exact latency/energy and the evaluator's errors of a batch, as trials."""
        if len(ids) == 0:
            return []
        t0 = time.perf_counter()
        ev = self.perf.evaluate(batch, [self.config.tu])
        errors = np.asarray(self.evaluator.errors(batch), dtype=np.float64)
        if errors.shape != (len(ids),) or not np.isfinite(errors).all():
            raise LensError(f"the error evaluator returned {errors!r} for {len(ids)} candidates")
        seconds = (time.perf_counter() - t0) / len(ids)
        names = ev.split_names
        edge_lat, edge_en = ev.edge_latency_ms[:, 0], ev.edge_energy_mj[:, 0]
        return [
            Trial(
                tid,
                batch[j],
                float(errors[j]),
                float(ev.latency_ms[j, 0]),
                names[ev.latency_split[j, 0]],
                float(ev.energy_mj[j, 0]),
                names[ev.energy_split[j, 0]],
                float(edge_lat[j]),
                float(edge_en[j]),
                iteration,
                seconds,
            )
            for j, tid in enumerate(ids)
        ]

    def objective_points(self, trials: list[Trial]) -> np.ndarray:
        """`n x 3` (error, latency, energy) of trials under the run's objective."""
        if self.config.objective == "edge":
            rows = [(t.error, t.edge_latency_ms, t.edge_energy_mj) for t in trials]
        else:
            rows = [(t.error, t.latency_ms, t.energy_mj) for t in trials]
        return np.asarray(rows, dtype=np.float64).reshape(-1, 3)

    # --------------------------------------------------------------- proposals
    def propose(self, iteration: int, earlier: list[Trial], size: int) -> np.ndarray:
        """The `size x 22` batch of an iteration (deterministic, see module docstring)."""
        import torch

        cfg = self.config
        rng = np.random.default_rng([cfg.seed, iteration])
        torch.manual_seed(cfg.seed * 1_000_003 + iteration)
        seen = np.stack([t.encoding for t in earlier]) if earlier else np.zeros((0, 22), np.int32)
        if iteration == 0 or cfg.mode == "random":
            return self._fresh(rng, seen, size)
        pool = self._pool(rng, earlier, seen)
        if len(pool) < size:
            raise LensError(
                f"the candidate pool has only {len(pool)} new architectures, need {size}"
            )
        obj = self.objective_points(earlier)
        warm = self._gp_state(iteration - 1)
        if cfg.mode == "fast":
            from lens_fast.search.acquisition import select_fast

            lat, en = objective_values(self.perf.evaluate(pool, [cfg.tu]), cfg.objective)
            chosen, _, state = select_fast(
                features(seen),
                obj,
                features(pool),
                np.column_stack([lat, en]),
                self.ref,
                size,
                self.device,
                warm_state=warm,
            )
        else:
            from lens_fast.search.acquisition import select_faithful

            chosen, _, state = select_faithful(
                features(seen),
                obj,
                features(pool),
                self.ref,
                size,
                seed=cfg.seed * 1_000_003 + iteration,
                device=self.device,
                mc_samples=cfg.mc_samples,
                alpha=cfg.partition_alpha,
                warm_state=warm,
            )
        self.store.set_meta(f"gp_state:{iteration}", json.dumps(state))
        return pool[chosen]

    def _gp_state(self, iteration: int) -> dict | None:
        """The GP hyperparameters fitted at an iteration (stored in the run), if any."""
        text = self.store.get_meta(f"gp_state:{iteration}")
        return None if text is None else json.loads(text)

    def _fresh(self, rng: np.random.Generator, seen: np.ndarray, size: int) -> np.ndarray:
        """`size` uniform random architectures not in `seen`, distinct."""
        picked = np.zeros((0, 22), dtype=np.int32)
        while len(picked) < size:
            draw = sample(2 * size + 16, rng)
            picked = _new_rows(np.vstack([picked, draw]), seen)
        return picked[:size]

    def _pool(self, rng: np.random.Generator, earlier: list[Trial], seen: np.ndarray) -> np.ndarray:
        """Random samples plus mutants of the current Pareto set, minus evaluated ones."""
        cfg = self.config
        members = seen[pareto_mask(self.objective_points(earlier))]
        mutants = mutate(np.repeat(members, cfg.mutations, axis=0), rng)
        return _new_rows(np.vstack([mutants, sample(cfg.pool, rng)]), seen)


def _new_rows(rows: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Distinct rows of `rows` (first occurrence order) that are not in `seen`."""
    keys = row_keys(rows)
    _, first = np.unique(keys, return_index=True)
    rows = rows[np.sort(first)]
    if len(seen):
        rows = rows[~np.isin(row_keys(rows), row_keys(seen))]
    return rows
