"""Error evaluators behind the search's interface: a batch in, test errors out.

* `TrainEvaluator` (``train``): trains every candidate with a `Recipe` and returns its
  test error (the paper's objective).
* `ProxyEvaluator` (``proxy``): a training-free score (NASWOT or SynFlow) of the
  untrained network mapped to an error estimate (`lens_fast.accuracy.proxy`).

Both cache each result under a hash of (architecture, data fingerprint, recipe with
its seed), in memory and optionally in `cache_dir` shared across runs, so that no
candidate is computed twice; duplicates inside a batch are computed once. Candidates
that miss run on an executor (`serial`, `local` processes, or `dask`), and each
result is cached the moment it arrives. `make_evaluator(kind, **options)` is the
factory the search command calls.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path

import numpy as np

from lens_fast.accuracy.base import ErrorEvaluator
from lens_fast.accuracy.cache import ResultCache, cache_key
from lens_fast.accuracy.executors import Executor, make_executor
from lens_fast.accuracy.jobs import DataRef, proxy_job, train_job
from lens_fast.accuracy.train import Recipe
from lens_fast.errors import LensError
from lens_fast.space.vgg import validate

KINDS: tuple[str, ...] = ("train", "proxy")


class _CachedEvaluator(ErrorEvaluator):
    """Validation, cache look-up, de-duplication and dispatch shared by the evaluators."""

    kind = "cached"
    job_fn: Callable[..., dict]

    def __init__(self, data: str, *, download: bool, split_seed: int, cache_dir,
                 executor: str | Executor | None, workers: int | None, scheduler: str | None,
                 device: str, journal: str | Path | None) -> None:  # fmt: skip
        from lens_fast.accuracy.data import load_data
        from lens_fast.accuracy.train import resolve_device

        resolve_device(device)  # a bad --device fails here, not on a worker
        self.data = load_data(data, download, split_seed)  # bad data fails before any work
        self.data_ref = DataRef(str(data), bool(download), int(split_seed), self.data.fingerprint)
        self.device = device
        self.cache = ResultCache(cache_dir)
        self.journal = None if journal is None else str(journal)
        if isinstance(executor, Executor):
            self._executor: Executor | None = executor
            self._executor_spec: tuple = ()
        else:
            self._executor = None
            self._executor_spec = (executor or ("dask" if scheduler else "serial"), workers,
                                   scheduler, device)  # fmt: skip
        self.computed = 0  # candidates computed (cache misses) by this evaluator

    # -- subclasses
    @abstractmethod
    def _job_options(self) -> dict:
        """The job's options beside the architecture and data (part of the cache key)."""

    @abstractmethod
    def _error_of(self, record: dict) -> float:
        """The error in [0, 1] that a finished job's record stands for."""

    # -- machinery
    @property
    def executor(self) -> Executor:
        if self._executor is None:
            self._executor = make_executor(*self._executor_spec)
        return self._executor

    def key(self, row: np.ndarray) -> str:
        return cache_key(row, self.data.fingerprint, self._job_options(), self.kind)

    def records(self, batch: object) -> list[dict]:
        """The cached or freshly computed record of every row (in order)."""
        rows = validate(batch, "native")
        keys = [self.key(row) for row in rows]
        found: dict[str, dict] = {}
        jobs = []
        options = self._job_options()
        for key, row in zip(keys, rows, strict=True):
            if key in found:
                continue
            record = self.cache.get(key)
            if record is not None:
                found[key] = record
                continue
            found[key] = {}  # placeholder: queued once however often it repeats
            args = (key, row.tolist(), self.data_ref, options, self.device, self.journal)
            jobs.append((key, args))
        arch_of = {key: row.tolist() for key, row in zip(keys, rows, strict=True)}

        def on_result(key: str, result: dict) -> None:
            record = {"kind": self.kind, "arch": arch_of[key], "data": self.data.describe(),
                      "options": options, "result": result}  # fmt: skip
            self.cache.put(key, record)
            found[key] = record
            self.computed += 1

        if jobs:
            self.executor.run(type(self).job_fn, jobs, on_result)
        return [found[key] for key in keys]

    def errors(self, batch: np.ndarray) -> np.ndarray:
        errs = np.array([self._error_of(r) for r in self.records(batch)], dtype=np.float64)
        bad = ~np.isfinite(errs) | (errs < 0) | (errs > 1)
        if bad.any():
            raise LensError(f"error of row {int(np.flatnonzero(bad)[0])} must be in [0, 1], "
                            f"got {errs[bad][0]}")  # fmt: skip
        return errs

    def close(self) -> None:
        if self._executor is not None:
            self._executor.close()
            if self._executor_spec:  # ours: a later batch starts a new one
                self._executor = None

    def _describe_common(self) -> dict:
        if self._executor is not None:
            executor = self._executor.describe()
        else:
            kind, workers, scheduler, _device = self._executor_spec
            executor = {"executor": kind, "workers": workers, "scheduler": scheduler}
        return {"data": self.data.describe(), "device": self.device, **executor}


class TrainEvaluator(_CachedEvaluator):
    """Test error after training with `recipe` (the paper's objective)."""

    name = "train"
    kind = "train"
    job_fn = staticmethod(train_job)

    def __init__(self, data: str = "digits", recipe: Recipe | None = None, *,
                 download: bool = False, split_seed: int = 0, cache_dir=None,
                 executor: str | Executor | None = None, workers: int | None = None,
                 scheduler: str | None = None, device: str = "auto",
                 journal: str | Path | None = None) -> None:  # fmt: skip
        self.recipe = recipe or Recipe()
        super().__init__(data, download=download, split_seed=split_seed, cache_dir=cache_dir,
                         executor=executor, workers=workers, scheduler=scheduler,
                         device=device, journal=journal)  # fmt: skip

    def _job_options(self) -> dict:
        return self.recipe.as_dict()

    def _error_of(self, record: dict) -> float:
        return float(record["result"]["test_error"])

    def describe(self) -> dict:
        return {"name": self.name, "recipe": self.recipe.as_dict(), "split_seed":
                self.data_ref.split_seed, **self._describe_common()}  # fmt: skip


class ProxyEvaluator(_CachedEvaluator):
    """A training-free score mapped to an error estimate (see `lens_fast.accuracy.proxy`)."""

    name = "proxy"
    kind = "proxy"
    job_fn = staticmethod(proxy_job)

    def __init__(self, data: str = "digits", score: str = "synflow", batch: int = 64,
                 seed: int = 0, *, calibration: dict | None = None, download: bool = False,
                 split_seed: int = 0, cache_dir=None, executor: str | Executor | None = None,
                 workers: int | None = None, scheduler: str | None = None,
                 device: str = "auto", journal: str | Path | None = None) -> None:  # fmt: skip
        from lens_fast.accuracy.proxy import CALIBRATION, _check_kind

        _check_kind(score)
        if batch < 2:
            raise LensError(f"proxy batch must be >= 2 images, got {batch}")
        self.score, self.batch, self.seed = score, int(batch), int(seed)
        self.calibration = dict(calibration or CALIBRATION[score])
        super().__init__(data, download=download, split_seed=split_seed, cache_dir=cache_dir,
                         executor=executor, workers=workers, scheduler=scheduler,
                         device=device, journal=journal)  # fmt: skip

    def _job_options(self) -> dict:
        return {"kind": self.score, "batch": self.batch, "seed": self.seed}

    def scores(self, batch: object) -> np.ndarray:
        """The raw scores (`n` float64; the calibration's sign says which way is better)."""
        return np.array([r["result"]["score"] for r in self.records(batch)], dtype=np.float64)

    def _error_of(self, record: dict) -> float:
        from lens_fast.accuracy.proxy import estimate_error

        return float(estimate_error(record["result"]["score"], self.score, self.calibration))

    def describe(self) -> dict:
        return {"name": self.name, **self._job_options(), "calibration": self.calibration,
                "split_seed": self.data_ref.split_seed, **self._describe_common()}  # fmt: skip


_COMMON = ("data", "download", "split_seed", "cache_dir", "executor", "workers", "scheduler",
           "device", "journal")  # fmt: skip
_RECIPE = {"epochs": "epochs", "batch_size": "batch_size", "lr": "lr", "momentum": "momentum",
           "weight_decay": "weight_decay", "augment": "augment", "subset": "train_images",
           "train_images": "train_images", "val_images": "val_images",
           "test_images": "test_images", "seed": "seed", "amp": "amp"}  # fmt: skip
_PROXY = ("score", "batch", "seed", "calibration")


def make_evaluator(kind: str, **options) -> ErrorEvaluator:
    """The evaluator `kind` ("train" or "proxy") configured by keyword options.

    Common: data ("digits" or "cifar10:DIR"), download, split_seed, cache_dir (a folder
    shared across runs; None keeps the cache in memory), executor ("serial", "local",
    "dask"; default dask when a scheduler is given, else serial), workers, scheduler
    (a Dask address), device ("auto", "cpu", "cuda"), journal (a JSON-lines file).
    train: epochs, batch_size, lr, momentum, weight_decay, augment, subset (training
    images), val_images, test_images, seed, amp. proxy: score ("synflow", the default, or
    "naswot"),
    batch, seed, calibration. None values take the defaults.
    """
    options = {k: v for k, v in options.items() if v is not None}
    if kind == "train":
        allowed = set(_COMMON) | set(_RECIPE)
    elif kind == "proxy":
        allowed = set(_COMMON) | set(_PROXY)
    else:
        raise LensError(f"error evaluator must be one of {', '.join(KINDS)}, got {kind!r}")
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise LensError(f"unknown option {unknown[0]!r} for the {kind} evaluator, expected one "
                        f"of {', '.join(sorted(allowed))}")  # fmt: skip
    common = {k: options[k] for k in _COMMON if k in options}
    if kind == "train":
        recipe = Recipe(**{_RECIPE[k]: v for k, v in options.items() if k in _RECIPE})
        return TrainEvaluator(recipe=recipe, **common)
    return ProxyEvaluator(**{k: v for k, v in options.items() if k in _PROXY}, **common)
