"""`lens-fast evaluate` and `sweep` through click's runner: stdout, stderr, exit codes."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from lens_fast import PerformanceModel, space
from lens_fast.cli.main import cli
from lens_fast.space.io import write_architectures


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def test_evaluate_json_equals_the_api(runner):
    res = run(
        runner,
        "evaluate",
        "--random",
        4,
        "--seed",
        3,
        "--tech",
        "lte",
        "--tu",
        2,
        "--tu",
        20,
        "--rtt-ms",
        5,
        "--format",
        "json",
    )
    assert res.exit_code == 0, res.stderr
    records = json.loads(res.stdout)
    assert len(records) == 8 and res.stderr == ""
    ev = PerformanceModel("builtin", "lte", rtt_ms=5).evaluate(space.sample(4, 3), [2, 20])
    assert records[3]["index"] == 1 and records[3]["tu"] == 20
    assert records[3]["latency_ms"] == pytest.approx(ev.latency_ms[1, 1], rel=1e-15)
    assert records[3]["energy_split"] == ev.split_names[ev.energy_split[1, 1]]
    assert set(records[0]) >= {
        "index",
        "tu",
        "latency_ms",
        "latency_split",
        "energy_mj",
        "energy_split",
        "edge_latency_ms",
        "edge_energy_mj",
        "cloud_latency_ms",
        "cloud_energy_mj",
    }


def test_evaluate_table_and_csv(runner):
    table = run(runner, "evaluate", "--random", 2, "--tu", 5)
    assert table.exit_code == 0
    lines = table.stdout.strip().splitlines()
    assert lines[0].split()[:3] == ["index", "tu", "latency_ms"] and len(lines) == 3
    csv = run(runner, "evaluate", "--random", 2, "--tu", 5, "--format", "csv")
    frame = pd.read_csv(io.StringIO(csv.stdout))
    assert list(frame["index"]) == [0, 1]
    assert set(frame["latency_split"]) <= set(space.split_names("native"))


def test_arch_files_in_both_encodings_ignore_extra_columns(runner, tmp_path):
    batch = space.sample(5, seed=9)
    batch[:, 20] = np.where(batch[:, 20] == 0, 512, batch[:, 20])  # paper needs fc1
    paper = space.native_to_paper(batch)
    csv_path = write_architectures(tmp_path / "a.csv", paper, "paper")
    frame = pd.read_csv(csv_path).assign(note="x", accuracy=0.9)
    frame.to_csv(csv_path, index=False)
    json_path = write_architectures(tmp_path / "a.json", batch, "native")
    a = run(
        runner,
        "evaluate",
        "--arch-file",
        csv_path,
        "--encoding",
        "paper",
        "--tu",
        3,
        "--format",
        "json",
    )
    b = run(runner, "evaluate", "--arch-file", json_path, "--tu", 3, "--format", "json")
    assert a.exit_code == b.exit_code == 0
    assert json.loads(a.stdout) == json.loads(b.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--random", 2, "--tu", 0], "tu must be > 0 Mbit/s"),
        (["--random", 2, "--tu", "nan"], "tu must be > 0 Mbit/s and finite, got nan"),
        (["--random", 2, "--tu", 5, "--tech", "5g"], "unknown radio technology '5g'"),
        (["--random", 0, "--tu", 5], "--random must be >= 1"),
        (["--random", 2, "--tu", 5, "--rtt-ms", -1], "rtt must be a finite number >= 0 ms"),
        (["--arch-file", "/nonexistent/a.csv", "--tu", 5], "no such file: /nonexistent/a.csv"),
        (["--random", 2, "--tu", 5, "--profile", "/nonexistent/p.csv"], "no such profile"),
    ],
)
def test_user_errors_exit_1_with_one_line(runner, args, message):
    res = run(runner, "evaluate", *args)
    assert res.exit_code == 1
    assert res.stdout == ""
    assert res.stderr.startswith("error: ") and message in res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr


def test_invalid_architecture_row_and_bad_profiles(runner, tmp_path):
    batch = space.sample(3, seed=1)
    batch[2, 4] = 4
    path = write_architectures(tmp_path / "bad.csv", batch)
    res = run(runner, "evaluate", "--arch-file", path, "--tu", 1)
    assert res.exit_code == 1 and "row 2: field k2 = 4 not in {3, 5, 7}" in res.stderr
    profile = pd.DataFrame(
        {"op": ["conv"], "in_features": [10], "k2f": [9], "latency_ms": [-1.0], "power_w": [1.0]}
    )
    profile.to_csv(tmp_path / "neg.csv", index=False)
    res = run(runner, "evaluate", "--random", 1, "--tu", 1, "--profile", tmp_path / "neg.csv")
    assert res.exit_code == 1 and "latency must be a finite number > 0, got -1.0" in res.stderr
    profile.drop(columns="power_w").to_csv(tmp_path / "nocol.csv", index=False)
    res = run(runner, "evaluate", "--random", 1, "--tu", 1, "--profile", tmp_path / "nocol.csv")
    assert res.exit_code == 1 and "missing column 'power_w'" in res.stderr
    (tmp_path / "garbage.json").write_text("{not json")
    res = run(runner, "evaluate", "--arch-file", tmp_path / "garbage.json", "--tu", 1)
    assert res.exit_code == 1 and "cannot read architecture file" in res.stderr


def test_debug_shows_the_traceback(runner):
    res = runner.invoke(cli, ["--debug", "evaluate", "--random", "1", "--tu", "-1"])
    assert res.exit_code == 1 and "Traceback" in res.stderr


def test_usage_errors_exit_2(runner):
    assert run(runner, "evaluate", "--tu", 5).exit_code == 2  # no source
    assert run(runner, "evaluate", "--random", 1, "--tu", 5, "--semantics", "x").exit_code == 2
    assert run(runner, "nosuchcommand").exit_code == 2


def test_version_reports_threading_layer_and_torch_device(runner):
    res = run(runner, "--version")
    assert res.exit_code == 0
    assert "threading layer:" in res.stdout and "device: cpu" in res.stdout


def test_sweep_npz_matches_evaluate(runner, tmp_path):
    out = tmp_path / "s.npz"
    res = run(
        runner,
        "sweep",
        "--random",
        3000,
        "--seed",
        4,
        "--tu-grid",
        "0.5:50:16",
        "--log",
        "--tech",
        "3g",
        "--rtt-ms",
        2,
        "--out",
        out,
        "--chunk",
        1000,
    )
    assert res.exit_code == 0, res.stderr
    assert res.stdout == "" and "sweep: 3000 candidates x 16 tu = 48000 candidate-tu" in res.stderr
    data = np.load(out)
    ev = PerformanceModel("builtin", "3g", rtt_ms=2).evaluate(
        space.sample(3000, 4), data["tu_mbps"]
    )
    np.testing.assert_allclose(data["tu_mbps"], np.geomspace(0.5, 50, 16))
    np.testing.assert_array_equal(data["latency_ms"], ev.latency_ms)
    np.testing.assert_array_equal(data["energy_split"], ev.energy_split)
    np.testing.assert_array_equal(data["edge_energy_mj"], ev.edge_energy_mj)
    np.testing.assert_array_equal(data["cloud_latency_ms"], ev.cloud_latency_ms)
    assert list(data["split_names"]) == list(ev.split_names)
    assert json.loads(str(data["meta"]))["tech"] == "3g"


def test_sweep_parquet_long_format(runner, tmp_path):
    out = tmp_path / "s.parquet"
    res = run(
        runner,
        "sweep",
        "--random",
        50,
        "--tu",
        1,
        "--tu",
        10,
        "--semantics",
        "lens-dac21",
        "--out",
        out,
    )
    assert res.exit_code == 0, res.stderr
    frame = pd.read_parquet(out)
    assert (
        len(frame) == 100
        and frame["latency_split"].astype(str).isin(space.split_names("lens-dac21")).all()
    )


def test_sweep_bad_output_leaves_nothing(runner, tmp_path):
    res = run(runner, "sweep", "--random", 5, "--tu", 1, "--out", tmp_path / "x.txt")
    assert res.exit_code == 1 and "must end in .npz or .parquet" in res.stderr
    res = run(runner, "sweep", "--random", 5, "--tu", 1, "--out", tmp_path / "no" / "x.npz")
    assert res.exit_code == 1 and "does not exist" in res.stderr
    res = run(runner, "sweep", "--random", 5, "--tu", 1, "--tu", -2, "--out", tmp_path / "y.npz")
    assert res.exit_code == 1 and not (tmp_path / "y.npz").exists()
    assert list(tmp_path.iterdir()) == []
