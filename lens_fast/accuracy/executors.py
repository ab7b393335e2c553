"""Where candidates train: in this process, on local worker processes, or on Dask.

`Executor.run(fn, jobs, on_result)` runs ``fn(*args, slot=..., host_workers=...)`` for
every ``(key, args)`` job and calls ``on_result(key, result)`` in the calling thread as
soon as each one finishes, so the caller stores every finished result at once: a
later failure, a killed worker or an interrupt never loses it.

* `SerialExecutor`: one after the other, here.
* `LocalExecutor`: a pool of `workers` processes (spawned), one candidate per
  process at a time; a process that dies takes its pool down, and the unfinished
  candidates are resubmitted to a fresh pool (up to `attempts` times each).
* `DaskExecutor`: a Dask cluster (`scheduler` address, or a `LocalCluster` of
  `workers` processes with one thread each); a killed worker's candidates are
  rescheduled elsewhere by the scheduler, failing ones retried (`attempts`).

Each process uses ``cores // workers`` torch threads; on GPUs, slot i uses GPU
``i % count``. distributed is imported only by `DaskExecutor`.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from lens_fast.errors import LensError

Job = tuple[str, tuple]
ResultCallback = Callable[[str, dict], None]
EXECUTORS: tuple[str, ...] = ("serial", "local", "dask")


class Executor(ABC):
    """Runs jobs and reports each result as soon as it is known."""

    name = "executor"
    workers = 1

    @abstractmethod
    def run(self, fn: Callable[..., dict], jobs: Sequence[Job], on_result: ResultCallback) -> None:
        """Run ``fn(*args, slot=, host_workers=)`` for each job; ``on_result(key, result)`` each."""

    def describe(self) -> dict:
        return {"executor": self.name, "workers": self.workers}

    def close(self) -> None:  # noqa: B027 - nothing to release by default
        """Release processes or clusters."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class SerialExecutor(Executor):
    """Every job in this process, in order."""

    name = "serial"

    def run(self, fn, jobs, on_result):
        for key, args in jobs:
            on_result(key, fn(*args, slot=0, host_workers=1))


class LocalExecutor(Executor):
    """A pool of `workers` spawned processes; dead processes' candidates are retried."""

    name = "local"

    def __init__(self, workers: int | None = None, attempts: int = 3) -> None:
        from lens_fast.accuracy.train import available_cpus

        if workers is not None and workers < 1:
            raise LensError(f"workers must be >= 1, got {workers}")
        self.workers = workers or available_cpus()
        self.attempts = attempts
        self._pool: Any = None

    def _new_pool(self):
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return self._pool

    def _drop_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def run(self, fn, jobs, on_result):
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        pending: deque[Job] = deque(jobs)
        tries: dict[str, int] = {}
        running: dict[Any, tuple[str, tuple, int]] = {}
        free = list(range(self.workers - 1, -1, -1))
        try:
            while pending or running:
                while pending and free:
                    key, args = pending.popleft()
                    slot = free.pop()
                    try:
                        fut = self._new_pool().submit(
                            fn, *args, slot=slot, host_workers=self.workers
                        )
                    except BrokenProcessPool:  # died between two checks: start afresh
                        self._drop_pool()
                        fut = self._new_pool().submit(
                            fn, *args, slot=slot, host_workers=self.workers
                        )
                    running[fut] = (key, args, slot)
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                broken = False
                for fut in done:
                    key, args, slot = running.pop(fut)
                    free.append(slot)
                    try:
                        result = fut.result()
                    except LensError:
                        raise
                    except BrokenProcessPool as exc:
                        broken = True
                        self._retry(key, args, tries, pending, exc)
                    except Exception as exc:
                        self._retry(key, args, tries, pending, exc)
                    else:
                        on_result(key, result)
                if broken:
                    self._drop_pool()
        except BaseException:
            self._drop_pool()
            raise

    def _retry(self, key, args, tries, pending, exc) -> None:
        tries[key] = tries.get(key, 0) + 1
        if tries[key] >= self.attempts:
            raise LensError(
                f"candidate {key[:12]} failed {tries[key]} times, expected it to finish; "
                f"last: {_reason(exc)}"
            ) from exc
        logging.getLogger(__name__).warning("retrying %s after %s", key[:12], _reason(exc))
        pending.appendleft((key, args))

    def close(self) -> None:
        self._drop_pool()


class DaskExecutor(Executor):
    """Jobs on a Dask cluster: `scheduler` (an address) or a new `LocalCluster`."""

    name = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None,
                 attempts: int = 3, timeout_s: float = 30.0) -> None:  # fmt: skip
        from distributed import Client, LocalCluster

        from lens_fast.accuracy.train import available_cpus

        if workers is not None and workers < 1:
            raise LensError(f"workers must be >= 1, got {workers}")
        self.scheduler = scheduler
        self.attempts = attempts
        self._cluster = None
        if scheduler:
            try:
                self.client = Client(scheduler, timeout=timeout_s)
            except (OSError, TimeoutError, ValueError) as exc:
                raise LensError(
                    f"cannot reach the Dask scheduler at {scheduler!r} "
                    f"(expected host:port or tcp://host:port): {_reason(exc)}"
                ) from None
            self.workers = max(1, len(self.client.scheduler_info()["workers"]))
        else:
            self.workers = workers or available_cpus()
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1,
                                         processes=True, dashboard_address=None,
                                         silence_logs=logging.ERROR)  # fmt: skip
            self.client = Client(self._cluster)

    def _per_host(self) -> int:
        """The most workers any one host runs (they share its cores)."""
        hosts: dict[str, int] = {}
        for address in self.client.scheduler_info()["workers"]:
            host = address.rsplit(":", 1)[0]
            hosts[host] = hosts.get(host, 0) + 1
        return max(hosts.values(), default=1)

    def run(self, fn, jobs, on_result):
        from distributed import as_completed

        if not jobs:
            return
        per_host = self._per_host() if self.scheduler else self.workers
        futures = {}
        for key, args in jobs:
            fut = self.client.submit(fn, *args, slot=None, host_workers=per_host, key=f"lens-{key}",
                                     pure=False, retries=self.attempts - 1)  # fmt: skip
            futures[fut] = key
        try:
            for fut in as_completed(futures):
                key = futures[fut]
                try:
                    result = fut.result()
                except LensError:
                    raise
                except Exception as exc:
                    raise LensError(
                        f"candidate {key[:12]} failed on the Dask cluster, expected it to "
                        f"finish: {_reason(exc)}"
                    ) from exc
                on_result(key, result)
                fut.release()
        finally:
            for fut in futures:
                if not fut.done():
                    fut.cancel()

    def describe(self) -> dict:
        return {"executor": self.name, "workers": self.workers, "scheduler": self.scheduler}

    def close(self) -> None:
        self.client.close()
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


def gpu_count(device: str = "auto") -> int:
    """GPUs that `device` ('auto', 'cuda', 'cpu', ...) would train on here (0 for the CPU)."""
    if device not in ("auto", "cuda"):
        return 0
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def make_executor(kind: str = "serial", workers: int | None = None,
                  scheduler: str | None = None, device: str = "cpu") -> Executor:  # fmt: skip
    """An executor by name: serial, local (processes) or dask (cluster or LocalCluster).

    Without `workers`, a local pool or LocalCluster has one worker per GPU when
    `device` trains on GPUs, else one per core (each with one torch thread).
    """
    if workers is None and kind in ("local", "dask") and not scheduler:
        workers = gpu_count(device) or None
    if kind == "serial":
        return SerialExecutor()
    if kind == "local":
        return LocalExecutor(workers)
    if kind == "dask":
        return DaskExecutor(scheduler, workers)
    raise LensError(f"executor must be one of {', '.join(EXECUTORS)}, got {kind!r}")
