"""The search loop: determinism, resume after kill -9, refusals, modes, CLI."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from lens_fast.cli.main import cli
from lens_fast.errors import RunStoreError
from lens_fast.search.mobo import Search, SearchConfig, slots
from lens_fast.search.pareto import hypervolume
from lens_fast.search.runner import error_evaluator, open_run
from lens_fast.search.store import RunStore

SMALL = [
    "--budget",
    "26",
    "--init",
    "10",
    "--batch",
    "4",
    "--pool",
    "3000",
    "--tu",
    "8",
    "--tech",
    "lte",
    "--seed",
    "3",
]


def run_search(folder, config: SearchConfig, resume: bool = False):
    store, config, perf = open_run(folder, config, resume)
    try:
        return Search(config, store, perf, error_evaluator(config.error)).run()
    finally:
        store.close()


def rows(trials):
    """Everything that must be reproduced exactly (not the wall time)."""
    return [
        (
            t.trial_id,
            t.encoding.tolist(),
            t.error,
            t.latency_ms,
            t.latency_split,
            t.energy_mj,
            t.energy_split,
            t.iteration,
        )
        for t in trials
    ]


def db_rows(folder: Path):
    with sqlite3.connect(folder / "trials.sqlite") as conn:
        return conn.execute(
            "SELECT trial_id, encoding, error, latency_ms, latency_split, energy_mj, energy_split,"
            " iteration FROM trials ORDER BY trial_id"
        ).fetchall()


def test_slots_partition_the_budget():
    cfg = SearchConfig(budget=26, init=10, batch=4)
    assert slots(cfg) == [(0, 0, 10), (1, 10, 4), (2, 14, 4), (3, 18, 4), (4, 22, 4)]
    assert slots(SearchConfig(budget=12, init=10, batch=4))[-1] == (1, 10, 2)


def test_same_seed_same_trials_and_partial_batches_resume(tmp_path):
    cfg = SearchConfig(budget=22, init=8, batch=5, pool=2000, tu=8.0, tech="lte", seed=5)
    first = run_search(tmp_path / "a", cfg)
    assert [t.trial_id for t in first] == list(range(22))
    assert len({tuple(t.encoding) for t in first}) == 22  # no architecture twice
    assert rows(run_search(tmp_path / "b", cfg)) == rows(first)
    # Lose the end of iteration 2 (ids 15..17 of 13..17) and all later trials, as a
    # kill in the middle of a batch would, then resume.
    shutil.copytree(tmp_path / "a", tmp_path / "c")
    with sqlite3.connect(tmp_path / "c" / "trials.sqlite") as conn:
        conn.execute("DELETE FROM trials WHERE trial_id >= 15")
    resumed = run_search(tmp_path / "c", cfg, resume=True)
    assert rows(resumed) == rows(first)


def test_kill_9_at_any_moment_then_resume_equals_uninterrupted(tmp_path):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "lens_fast", "search", *SMALL, "--format", "json"]
    reference = tmp_path / "ref"
    done = subprocess.run([*cmd, "--run", str(reference)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    run = tmp_path / "killed"
    kills = 0
    for target in (11, 19):  # kill once the database holds at least this many trials
        args = [*cmd, "--run", str(run)] + (["--resume"] if kills else [])
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 120
        while time.time() < deadline and proc.poll() is None:
            if (run / "trials.sqlite").exists():
                try:
                    if len(db_rows(run)) >= target:
                        break
                except sqlite3.OperationalError:
                    pass
            time.sleep(0.05)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 1
    before = len(db_rows(run))
    assert 11 <= before < 26
    final = subprocess.run(
        [*cmd, "--run", str(run), "--resume"], env=env, capture_output=True, text=True
    )
    assert final.returncode == 0, final.stderr
    assert db_rows(run) == db_rows(reference)
    assert json.loads(final.stdout) == json.loads(done.stdout)  # the same final front


def test_refusals_are_one_line_and_overwrite_nothing(tmp_path):
    runner = CliRunner()
    res = runner.invoke(cli, ["search", "--run", str(tmp_path / "r"), *SMALL])
    assert res.exit_code == 0, res.stderr
    trials_before = db_rows(tmp_path / "r")

    def fails(args, message):
        out = runner.invoke(cli, args)
        assert out.exit_code == 1, out.stderr
        assert message in out.stderr and out.stderr.count("\n") == 1
        assert "Traceback" not in out.stderr

    fails(["search", "--run", str(tmp_path / "r"), *SMALL], "already holds a run; use --resume")
    changed = [*SMALL[:-2], "--seed", "4"]
    fails(
        ["search", "--run", str(tmp_path / "r"), "--resume", *changed],
        "--resume with different options: seed was 3",
    )
    fails(["search", "--run", str(tmp_path / "r"), "--resume", *SMALL[:8], "--tu", "9"], "tu was 8")
    assert db_rows(tmp_path / "r") == trials_before
    # Corrupted and foreign folders.
    bad = tmp_path / "bad"
    shutil.copytree(tmp_path / "r", bad)
    (bad / "manifest.json").write_text("{ not json")
    fails(["search", "--run", str(bad), "--resume", "--tu", "8"], "is corrupted (not valid JSON)")
    shutil.rmtree(bad)
    shutil.copytree(tmp_path / "r", bad)
    (bad / "trials.sqlite").write_bytes(b"garbage" * 100)
    for suffix in ("-wal", "-shm"):
        (bad / f"trials.sqlite{suffix}").unlink(missing_ok=True)
    fails(["search", "--run", str(bad), "--resume", "--tu", "8"], "is corrupted")
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    fails(["search", "--run", str(foreign), *SMALL], "already holds files")
    fails(["search", "--run", str(foreign), "--resume", "--tu", "8"], "is not a lens-fast run")
    assert (foreign / "notes.txt").read_text() == "mine"
    manifest = json.loads((tmp_path / "r" / "manifest.json").read_text())
    manifest["config"]["budget"] = 99  # edited by hand: the hash no longer matches
    (bad / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(RunStoreError, match="was edited"):
        RunStore.open(bad)


def test_resume_of_a_finished_run_adds_nothing_and_can_extend(tmp_path):
    runner = CliRunner()
    folder = str(tmp_path / "r")
    assert runner.invoke(cli, ["search", "--run", folder, *SMALL]).exit_code == 0
    again = runner.invoke(cli, ["search", "--run", folder, "--resume", "--tu", "8"])
    assert again.exit_code == 0 and "0 new trials (26 in the run)" in again.stderr


def test_fast_beats_random_and_faithful_runs(tmp_path):
    base = dict(budget=40, init=10, batch=5, tu=8.0, tech="lte", seed=11)
    fast = run_search(tmp_path / "fast", SearchConfig(mode="fast", pool=5000, **base))
    rand = run_search(tmp_path / "rand", SearchConfig(mode="random", **base))
    faithful = run_search(
        tmp_path / "faith",
        SearchConfig(
            mode="faithful", pool=300, budget=13, init=10, batch=1, tu=8.0, tech="lte", seed=11
        ),
    )
    store = RunStore.open(tmp_path / "fast")
    ref = np.asarray(store.manifest["config"]["reference_point"])
    store.close()

    def hv(trials):
        return hypervolume(np.array([(t.error, t.latency_ms, t.energy_mj) for t in trials]), ref)

    assert hv(fast) > hv(rand)
    assert len(faithful) == 13 and len({tuple(t.encoding) for t in faithful}) == 13
    assert hv(faithful) > hv(faithful[:10])  # the model-guided batches improved the front


def test_traditional_run_is_an_edge_search_rescored(tmp_path):
    runner = CliRunner()
    res = runner.invoke(
        cli, ["traditional", "--run", str(tmp_path / "t"), *SMALL, "--format", "json"]
    )
    assert res.exit_code == 0, res.stderr
    manifest = json.loads((tmp_path / "t" / "manifest.json").read_text())
    assert manifest["config"]["objective"] == "edge"
    front = json.loads(res.stdout)
    assert front and all(r["latency_ms"] <= r["edge_latency_ms"] + 1e-9 for r in front)
