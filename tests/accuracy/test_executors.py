"""Parallel and distributed evaluation: same numbers everywhere; a killed worker loses nothing.

The Dask test runs a real LocalCluster of two worker processes and SIGKILLs the one
that is training a candidate, after another candidate has finished; the journal of
start/end events proves which candidates ran how often.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections import Counter

import numpy as np
import pytest

from lens_fast.accuracy.evaluators import TrainEvaluator
from lens_fast.accuracy.executors import LocalExecutor, SerialExecutor, make_executor
from lens_fast.accuracy.train import Recipe
from lens_fast.errors import LensError
from lens_fast.space.vgg import smallest


def _batch(n: int) -> np.ndarray:
    rows = np.repeat(smallest()[None], n, axis=0)
    rows[:, 0] = (24, 36, 64, 96)[:n]  # f1 differs: n distinct candidates
    return rows


def _events(path):
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _fail(*_args, **_kw):
    raise ValueError("boom")


def test_local_processes_give_the_serial_numbers():
    recipe = Recipe(epochs=1, train_images=64, val_images=32, test_images=64)
    batch = _batch(2)
    pool = LocalExecutor(workers=2, attempts=2)
    local = TrainEvaluator("digits", recipe, executor=pool, device="cpu")
    try:
        parallel = local.errors(batch)
        assert local.computed == 2
        # A failing job is retried on the same pool, then reported in one line.
        with pytest.raises(LensError, match=r"candidate kkkkkkkkkkkk failed 2 times.*boom"):
            pool.run(_fail, [("k" * 20, ())], lambda *_: None)
    finally:
        local.close()
    serial = TrainEvaluator("digits", recipe, executor=SerialExecutor(), device="cpu")
    assert parallel.tolist() == serial.errors(batch).tolist()
    with pytest.raises(LensError, match="workers must be >= 1, got 0"):
        make_executor("local", workers=0)


@pytest.mark.timeout(240)
def test_dask_killed_worker_loses_no_finished_result(tmp_path):
    journal = tmp_path / "journal.jsonl"
    cache = tmp_path / "cache"
    recipe = Recipe(epochs=1, train_images=320, val_images=50, test_images=100)
    batch = _batch(4)
    ev = TrainEvaluator("digits", recipe, executor="dask", workers=2, device="cpu",
                        cache_dir=cache, journal=journal)  # fmt: skip
    out: dict = {}

    def work():
        try:
            out["errors"] = ev.errors(batch)
        except BaseException as exc:  # reported by the main thread
            out["exc"] = exc

    try:
        thread = threading.Thread(target=work)
        thread.start()
        killed = None
        deadline = time.monotonic() + 150
        while killed is None and thread.is_alive() and time.monotonic() < deadline:
            events = _events(journal)
            ended = {e["key"] for e in events if e["event"] == "end"}
            busy = [e for e in events if e["event"] == "start" and e["key"] not in ended]
            if ended and busy:
                killed = busy[0]
                finished_before = set(ended)
                os.kill(killed["pid"], signal.SIGKILL)
            time.sleep(0.05)
        thread.join(timeout=180)
        assert killed is not None, "no candidate was running after the first one finished"
        assert "exc" not in out, out.get("exc")
        errors = out["errors"]
    finally:
        ev.close()

    assert errors.shape == (4,) and np.all((errors >= 0) & (errors <= 1))
    events = _events(journal)
    starts = Counter(e["key"] for e in events if e["event"] == "start")
    ends = Counter(e["key"] for e in events if e["event"] == "end")
    assert len(ends) == 4 and set(ends.values()) == {1}  # every candidate finished once
    assert starts[killed["key"]] == 2  # the killed one was retried elsewhere ...
    restart = [e for e in events if e["key"] == killed["key"] and e["event"] == "start"][1]
    assert restart["pid"] != killed["pid"]
    for key in finished_before:  # ... and no finished one was trained again
        assert starts[key] == 1
    assert ev.computed == 4 and len(list(cache.glob("??/*.json"))) == 4
    # The retried candidate's error is the one it gets on one thread in this process.
    again = TrainEvaluator("digits", recipe, executor="serial", device="cpu", cache_dir=cache)
    assert again.errors(batch).tolist() == errors.tolist() and again.computed == 0
