"""The unit of work an executor runs: one candidate, in whatever process it lands.

A job names its data by a `DataRef` (a spec each process loads once and checks
against the fingerprint of the data the caller saw), so only a few numbers travel
to a worker. Optionally each job appends ``start`` and ``end`` events to a journal
(JSON lines: event, key, pid, host, time), which shows which process trained what
and how often, e.g. that a killed worker's candidate was retried and nothing else was.
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass

import numpy as np

from lens_fast.errors import DataError


@dataclass(frozen=True)
class DataRef:
    """How a worker finds the data: the spec, its options, the expected fingerprint."""

    spec: str
    download: bool
    split_seed: int
    fingerprint: str

    def load(self):
        from lens_fast.accuracy.data import load_data

        data = load_data(self.spec, self.download, self.split_seed)
        if data.fingerprint != self.fingerprint:
            raise DataError(
                f"data {self.spec!r} on {socket.gethostname()} has fingerprint "
                f"{data.fingerprint[:12]}, expected {self.fingerprint[:12]} (the caller's copy)"
            )
        return data


def _journal(path: str | None, event: str, key: str, **extra) -> None:
    if not path:
        return
    line = json.dumps({"event": event, "key": key, "pid": os.getpid(),
                       "host": socket.gethostname(), "time": time.time(), **extra})  # fmt: skip
    with open(path, "a") as fh:  # one short line per write: appends do not interleave
        fh.write(line + "\n")


def worker_slot(slot: int | None) -> int:
    """This job's slot: given by a local executor, or the number of the Dask worker."""
    if slot is not None:
        return slot
    try:
        from distributed import get_worker

        name = get_worker().name
        return int(name) if str(name).isdigit() else abs(hash(name)) % 1024
    except (ImportError, ValueError):
        return 0


def placement(device: str, slot: int | None, host_workers: int | None) -> tuple[str, int]:
    """(device, CPU threads) of a job: GPUs dealt round-robin over slots, cores shared."""
    import torch

    from lens_fast.accuracy.train import default_threads

    if device in ("auto", "cuda") and torch.cuda.is_available():
        device = f"cuda:{worker_slot(slot) % torch.cuda.device_count()}"
    elif device == "auto":
        device = "cpu"
    return device, default_threads(host_workers or 1)


def train_job(key: str, row: list[int], data: DataRef, recipe: dict, device: str = "auto",
              journal: str | None = None, slot: int | None = None,
              host_workers: int | None = None) -> dict:  # fmt: skip
    """Train one native row with a recipe (a `Recipe` as a dict) -> the result as a dict."""
    from lens_fast.accuracy.train import Recipe, train_architecture

    dataset = data.load()
    dev, threads = placement(device, slot, host_workers)
    _journal(journal, "start", key, device=dev, threads=threads)
    result = train_architecture(
        np.asarray(row), dataset, Recipe(**recipe), device=dev, threads=threads
    )
    _journal(journal, "end", key, test_error=result.test_error)
    return result.as_dict()


def proxy_job(key: str, row: list[int], data: DataRef, options: dict, device: str = "auto",
              journal: str | None = None, slot: int | None = None,
              host_workers: int | None = None) -> dict:  # fmt: skip
    """Score one native row with a training-free proxy -> {"score", "seconds", ...}."""
    import torch

    from lens_fast.accuracy.proxy import proxy_score

    dataset = data.load()
    dev, threads = placement(device, slot, host_workers)
    _journal(journal, "start", key, device=dev, threads=threads)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        out = proxy_score(row, dataset, device=dev, **options)
    finally:
        torch.set_num_threads(previous)
    _journal(journal, "end", key, score=out["score"])
    return out
