"""`lens-fast profile run|fit|show` and `--profile PROFILE_DIR`, through click's CliRunner.

The smoke test profiles this CPU for real (pool and relu configs of the space, one
thread, a few repeats) and checks the table, the resume, the fit and the show.
"""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest
from click.testing import CliRunner

from lens_fast.cli.main import cli
from lens_fast.device.table import load_table
from tests.device.test_meters import rapl_tree


@pytest.fixture
def run_cli():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args))

    yield invoke
    torch.set_num_threads(threads)  # --threads 1 sets it for the whole process


def one_line_error(result, pattern: str) -> None:
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and pattern in lines[0], lines[0]
    assert result.stdout == ""


SMOKE = ("profile", "run", "--device", "cpu", "--ops", "pool,relu", "--configs", "space",
         "--threads", "1", "--repeats", "5", "--warmup", "1", "--power-w", "4", "--retries", "0")  # fmt: skip


def test_profiler_smoke_run_resume_fit_show(tmp_path, run_cli):
    t0 = time.perf_counter()
    out = tmp_path / "cpu.csv"
    r = run_cli(*SMOKE, "--out", str(out))
    assert r.exit_code == 0, r.output
    assert "67 configs to measure, 0 already in the table" in r.stderr
    assert "measured 67 configs" in r.stderr and r.stdout == ""
    raw = pd.read_csv(out)
    assert len(raw) == 67 and set(raw["origin"]) == {"space"}
    assert (raw["power_w"] == 4.0).all() and (raw["latency_ms"] > 0).all()
    assert (raw["repeats"] >= 3).all() and raw["load1"].notna().all()
    assert raw["cpu_share"].between(0.0, 1.5).all()  # CPU seconds per wall second per thread
    meta = json.loads((tmp_path / "cpu.meta.json").read_text())
    assert meta["device_kind"] == "cpu" and meta["threads"] == 1
    assert meta["meter"] == {
        "meter": "constant",
        "power_w": 4.0,
        "what": "constant 4 W stated by the user",
    }
    # physics: a 12.8M-element relu is far slower than a 4,096-element one
    lat = dict(zip(raw["shape"], raw["latency_ms"], strict=True))
    assert lat["relu 256x224x224"] > 20 * lat["relu 4096"]
    # resumable: the same command measures nothing more
    r2 = run_cli(*SMOKE, "--out", str(out))
    assert r2.exit_code == 0 and "0 configs to measure, 67 already in the table" in r2.stderr
    assert len(pd.read_csv(out)) == 67
    # fit: held-out MAPE per (op, target) on stdout
    prof = tmp_path / "prof"
    r3 = run_cli("profile", "fit", str(out), "--out", str(prof), "--format", "json")
    assert r3.exit_code == 0, r3.output
    mape = {(m["op"], m["target"]): m for m in json.loads(r3.stdout)}
    assert set(mape) == {(op, t) for op in ("pool", "relu") for t in ("latency_ms", "power_w")}
    assert mape[("pool", "latency_ms")]["rows"] == 22 and mape[("relu", "latency_ms")]["rows"] == 29
    assert (
        mape[("relu", "power_w")]["heldout_mape_pct"] < 1e-6
    )  # a constant power is learnt exactly
    assert "wrote" in r3.stderr
    r4 = run_cli("profile", "show", str(prof), "--format", "json")
    assert r4.exit_code == 0, r4.output
    shown = json.loads(r4.stdout)
    assert shown["device"] == meta["device"] and shown["meter"]["power_w"] == 4.0
    by_op = {o["op"]: o for o in shown["ops"]}
    assert (by_op["pool"]["configs"], by_op["relu"]["configs"]) == (22, 29)  # distinct keys
    assert by_op["relu"]["latency_max_ms"] == pytest.approx(
        load_table(out).frame.query("op == 'relu'")["latency_ms"].max()
    )
    r5 = run_cli("profile", "show", str(prof))
    assert r5.exit_code == 0 and r5.stdout.startswith(f"device: {meta['device']}\n")
    assert time.perf_counter() - t0 <= 30.0


def test_bad_input_exits_1_with_one_line(tmp_path, run_cli, monkeypatch):
    out = str(tmp_path / "t.csv")
    one_line_error(run_cli("profile", "run", "--ops", "conv,lrn", "--power-w", "3", "--out", out),
                   "unknown op 'lrn' in --ops")  # fmt: skip
    for budget in ("0", "-5"):
        one_line_error(run_cli("profile", "run", "--budget", budget, "--power-w", "3", "--out", out),
                       "--budget must be > 0 seconds")  # fmt: skip
    one_line_error(run_cli("profile", "run", "--ops", "relu", "--power-w", "3",
                           "--out", str(tmp_path / "missing" / "t.csv")), "cannot write")  # fmt: skip
    (tmp_path / "file").write_text("x")
    one_line_error(run_cli("profile", "run", "--ops", "relu", "--power-w", "3",
                           "--out", str(tmp_path / "file" / "t.csv")), "cannot write")  # fmt: skip
    one_line_error(run_cli("profile", "run", "--ops", "relu", "--power-w", "3",
                           "--out", str(tmp_path / "t.parquet")), "profile run writes CSV")  # fmt: skip
    monkeypatch.setenv("LENS_FAST_SYSFS_ROOT", str(tmp_path / "empty"))
    one_line_error(run_cli("profile", "run", "--ops", "relu", "--out", out), "give --power-w WATTS")
    assert not (tmp_path / "t.csv").exists()
    one_line_error(run_cli("profile", "fit", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "p")),
                   "no such file")  # fmt: skip
    one_line_error(run_cli("profile", "show", str(tmp_path)), "not a profile folder")


def test_appending_from_another_device_or_meter_is_refused(tmp_path, run_cli):
    out = tmp_path / "t.csv"
    args = ("profile", "run", "--ops", "relu", "--configs", "random", "--random-count", "2",
            "--threads", "1", "--repeats", "3", "--power-w", "3", "--out", str(out))  # fmt: skip
    assert run_cli(*args).exit_code == 0
    meta_file = tmp_path / "t.meta.json"
    meta = json.loads(meta_file.read_text())
    one_line_error(run_cli(*args[:-3], "7", "--out", str(out)), "power meter constant 3.0 W")
    meta_file.write_text(json.dumps({**meta, "device": "cuda: NVIDIA Jetson TX2"}))
    one_line_error(run_cli(*args), "was measured on 'cuda: NVIDIA Jetson TX2'")
    meta_file.unlink()
    one_line_error(run_cli(*args), "exists without t.meta.json")
    assert len(pd.read_csv(out)) == 2  # nothing appended by the refused runs


def test_a_meter_that_reads_nothing_never_writes_zeros(tmp_path, run_cli, monkeypatch):
    rapl_tree(tmp_path / "sysfs")  # counters that never move
    monkeypatch.setenv("LENS_FAST_SYSFS_ROOT", str(tmp_path / "sysfs"))
    out = tmp_path / "z.csv"
    r = run_cli("profile", "run", "--ops", "relu", "--threads", "1", "--repeats", "3",
                "--out", str(out))  # fmt: skip
    assert r.exit_code == 1
    assert (
        "error: power meter rapl read 0" in r.stderr and "expected a finite power > 0" in r.stderr
    )
    assert len(pd.read_csv(out)) == 0  # the header, no row of zeros
