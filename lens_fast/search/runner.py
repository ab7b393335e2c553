"""Opening runs (new or resumed) and building the search's parts from a configuration.

A new run computes its reference point once and stores the whole configuration;
`--resume` reads the run's configuration back: options given explicitly on the
command line must equal the stored ones (a one-line error otherwise), the others
are taken from the run.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from lens_fast.accuracy.base import ErrorEvaluator
from lens_fast.errors import LensError, RunStoreError
from lens_fast.network import radio
from lens_fast.objectives import PerformanceModel
from lens_fast.search.mobo import SearchConfig, reference_point
from lens_fast.search.store import RunStore


def performance_model(config: SearchConfig) -> PerformanceModel:
    """The performance model a configuration describes."""
    rad = radio(config.tech, config.alpha, config.beta)
    return PerformanceModel(
        config.profile,
        radio=rad,
        semantics=config.semantics,
        rtt_ms=config.rtt_ms,
        wire_dtype=config.wire_dtype,
    )


def error_evaluator(spec: dict) -> ErrorEvaluator:
    """The evaluator of an `error` spec: {"name": "synthetic"} or train/proxy options."""
    name = spec.get("name")
    if name == "synthetic":
        from lens_fast.search.synthetic import SyntheticError

        return SyntheticError()
    if name == "surrogate":
        from lens_fast.search.surrogate import SurrogateError

        return SurrogateError(spec["table"])
    if name in ("train", "proxy"):
        from lens_fast.accuracy.evaluators import make_evaluator

        options = {k: v for k, v in spec.items() if k != "name"}
        return make_evaluator(name, **options)
    raise LensError(f"--error must be synthetic, train, proxy or surrogate:FILE, got {name!r}")


def open_run(
    folder: str | Path, config: SearchConfig, resume: bool, explicit: set[str] | None = None
) -> tuple[RunStore, SearchConfig, PerformanceModel]:
    """Create a run (or reopen it with `resume`); returns the store, the effective
    configuration and its performance model. `explicit` names the config fields the
    user gave on the command line (checked against a resumed run)."""
    if resume:
        store = RunStore.open(folder)
        stored = store.manifest["config"]
        for key in sorted(explicit or ()):
            new = getattr(config, key)
            old = stored.get(key)
            if _normal(new) != _normal(old):
                store.close()
                raise RunStoreError(
                    f"--resume with different options: {key} was {old!r} in {folder}, got {new!r}"
                )
        try:
            effective = SearchConfig(
                **{**stored, "reference_point": tuple(stored["reference_point"])}
            )
        except (TypeError, KeyError) as exc:
            store.close()
            raise RunStoreError(
                f"{folder}: the manifest's configuration is not a search's: {exc}"
            ) from exc
        store.check_config(effective.as_dict())
        return store, effective, performance_model(effective)
    config.check()
    perf = performance_model(config)
    if config.reference_point is None:
        config = replace(config, reference_point=reference_point(perf, config.tu, config.objective))
    store = RunStore.create(folder, config.as_dict(), config.seed, perf.device.content_hash)
    return store, config, perf


def _normal(value):
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
