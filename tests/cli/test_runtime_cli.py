"""`lens-fast thresholds | regions | simulate | analyze` through click's runner."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from lens_fast import PerformanceModel, space
from lens_fast.cli.main import cli
from lens_fast.network import radio
from lens_fast.runtime import sources
from lens_fast.runtime.thresholds import batch_envelopes, envelope
from lens_fast.space.io import write_architectures
from tests.conftest import shared_path


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


def measured(model="alexnet", processor="gpu"):
    return ["--measured", shared_path("tx2", "tx2_measured_layers.csv"), "--model", model,
            "--processor", processor]  # fmt: skip


def png_shape(path):
    import matplotlib.image as mpimg

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return mpimg.imread(path).shape


def test_thresholds_json_equals_the_api(runner):
    res = run(runner, "thresholds", *measured(), "--tech", "wifi", "--format", "json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert set(out) == {"latency", "energy"}
    prof = sources.from_measured(
        shared_path("tx2", "tx2_measured_layers.csv"), "alexnet", "gpu", radio=radio("wifi")
    )
    for metric in ("latency", "energy"):
        assert out[metric] == envelope(prof.options(), metric, prof.radio).records()
    assert out["latency"][0]["tu_min"] == 0.0 and out["latency"][-1]["tu_max"] is None
    assert out["latency"][-1]["option"] == "all-cloud"
    assert "alexnet (measured, gpu, 8.5 W)" in res.stderr
    res = run(runner, "thresholds", *measured("alexnet", "cpu"), "--tech", "lte",
              "--metric", "energy", "--format", "csv")  # fmt: skip
    lines = res.stdout.splitlines()
    assert lines[0] == "metric,option,tu_min,tu_max" and lines[-1].endswith(",inf")
    assert all(line.startswith("energy,") for line in lines[1:])


def test_thresholds_all_writes_the_batch_kernel(runner, tmp_path):
    batch = space.sample(500, seed=6)
    archs = tmp_path / "a.csv"
    write_architectures(archs, space.native_to_paper(batch), "paper")
    out = tmp_path / "env.npz"
    res = run(runner, "thresholds", "--arch-file", archs, "--encoding", "paper", "--all",
              "--tech", "lte", "--out", out, "--format", "json")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    ref = batch_envelopes(PerformanceModel("builtin", "lte"), space.paper_to_native(
        space.native_to_paper(batch)))  # fmt: skip
    with np.load(out) as z:
        np.testing.assert_array_equal(z["latency_offsets"], ref.latency.offsets)
        np.testing.assert_array_equal(z["energy_code"], ref.energy.code)
        np.testing.assert_array_equal(z["energy_tu_min"], ref.energy.tu_min)
        assert json.loads(str(z["meta"]))["n"] == 500
    assert json.loads(res.stdout)["latency"]["all-cloud"] == 500
    assert "thresholds: 500 candidates" in res.stderr
    csv_out = tmp_path / "env.csv"
    res = run(runner, "thresholds", "--arch-file", archs, "--encoding", "paper", "--all",
              "--tech", "lte", "--out", csv_out)  # fmt: skip
    import pandas as pd

    frame = pd.read_csv(csv_out)
    assert len(frame) == len(ref.latency.code) + len(ref.energy.code)
    assert list(frame.columns) == ["row", "metric", "option", "tu_min", "tu_max"]


def test_thresholds_single_row_equals_batch_row(runner, tmp_path):
    batch = space.sample(5, seed=2)
    archs = tmp_path / "a.csv"
    write_architectures(archs, batch)
    res = run(runner, "thresholds", "--arch-file", archs, "--row", 3, "--format", "json",
              "--rtt-ms", 10)  # fmt: skip
    assert res.exit_code == 0, res.stderr
    ref = batch_envelopes(PerformanceModel("builtin", rtt_ms=10), batch)
    assert json.loads(res.stdout)["energy"] == ref.candidate(3, "energy").records()


def test_regions_json_and_plot(runner, tmp_path):
    plot = tmp_path / "regions.png"
    res = run(runner, "regions", *measured("alexnet", "cpu"), "--tech", "lte", "--countries",
              shared_path("network", "upload_mbps_by_country.csv"), "--format", "json",
              "--plot", plot)  # fmt: skip
    assert res.exit_code == 0, res.stderr
    recs = json.loads(res.stdout)
    assert len(recs) == 106
    assert set(recs[0]) == {"country", "region", "upload_mbps", "latency_option", "latency_ms",
                            "energy_option", "energy_mj"}  # fmt: skip
    afghanistan = next(r for r in recs if r["country"] == "Afghanistan")  # 0.7 Mbit/s
    assert afghanistan["latency_option"] == "all-edge"
    h, w, _ = png_shape(plot)
    assert w > 1500 and h > 500


def test_regions_all_counts_wins(runner, tmp_path):
    archs = tmp_path / "a.csv"
    write_architectures(archs, space.sample(400, seed=1))
    out = tmp_path / "winners.json"
    res = run(runner, "regions", "--arch-file", archs, "--all", "--countries",
              shared_path("network", "upload_mbps_by_country.csv"), "--out", out,
              "--format", "json")  # fmt: skip
    assert res.exit_code == 0, res.stderr
    wins = json.loads(res.stdout)
    assert sum(w["latency_countries"] for w in wins) == 106
    winners = json.loads(out.read_text())
    assert len(winners) == 106 and {"latency_row", "energy_row"} <= set(winners[0])


def test_simulate_json_and_plot(runner, tmp_path):
    plot = tmp_path / "sim.png"
    trace = shared_path("network", "lte_upload_traces.csv")
    res = run(runner, "simulate", *measured("alexnet", "cpu"), "--tech", "lte", "--trace", trace,
              "--column", "trace_b_mbps", "--format", "json", "--plot", plot)  # fmt: skip
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert {"fixed", "dynamic", "gain_pct"} <= set(out) and out["samples"] == 40
    for name, total in out["fixed"].items():
        assert out["gain_pct"][name] == pytest.approx(100 * (total - out["dynamic"]) / total)
    assert out["dynamic"] <= min(out["fixed"].values())
    png_shape(plot)
    res = run(runner, "simulate", *measured("alexnet", "cpu"), "--tech", "lte", "--trace", trace,
              "--metric", "energy", "--tracker", "previous")  # fmt: skip
    assert res.exit_code == 0 and "dynamic (previous)" in res.stdout


def test_analyze_torchvision_json_and_plot(runner, tmp_path):
    plot = tmp_path / "an.png"
    res = run(runner, "analyze", "--torchvision", "alexnet", "--format", "json", "--plot", plot)
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert len(out["layers"]) == 22 and out["input_bytes"] == 150528
    assert (
        out["layers"][12]["layer"] == "features_12" and out["layers"][12]["output_bytes"] == 36864
    )
    assert out["options"][0]["option"] == "all-cloud" and out["options"][-1]["option"] == "all-edge"
    png_shape(plot)


def _bad_file(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("empty-trace", "got an empty trace"),
        ("negative-trace", "tu must be > 0 Mbit/s, got -2.0 (row 2 of t.csv"),
        ("missing-trace", "got a missing value (row 1 of t.csv"),
        ("no-output-bytes", "missing output_bytes"),
        ("out-of-order", "layers out of order"),
        ("torchvision-name", "unknown torchvision model 'alexnett'"),
        ("row-range", "row index out of range: got 9, expected 0..1"),
    ],
)
def test_bad_input_exits_1_with_one_line(runner, tmp_path, case, message):
    trace = shared_path("network", "lte_upload_traces.csv")
    table = shared_path("tx2", "tx2_measured_layers.csv").read_text()
    src = measured()
    if case.endswith("trace"):
        text = {"empty-trace": "sample,mbps\n", "negative-trace": "sample,mbps\n1,3\n2,-2.0\n",
                "missing-trace": "sample,mbps\n1,\n2,3\n"}[case]  # fmt: skip
        trace = _bad_file(tmp_path, "t.csv", text)
    elif case == "no-output-bytes":
        src[1] = _bad_file(tmp_path, "m.csv", table.replace("output_bytes", "size"))
    elif case == "out-of-order":
        lines = table.splitlines()
        i = next(j for j, line in enumerate(lines) if line.startswith("alexnet,gpu,Conv1"))
        lines[i], lines[i + 4] = lines[i + 4], lines[i]  # Conv2 before Conv1
        src[1] = _bad_file(tmp_path, "m.csv", "\n".join(lines) + "\n")
    elif case == "torchvision-name":
        src = ["--torchvision", "alexnett"]
    elif case == "row-range":
        archs = tmp_path / "a.csv"
        write_architectures(archs, space.sample(2, seed=0))
        src = ["--arch-file", archs, "--row", 9]
    res = run(runner, "simulate", *src, "--trace", trace)
    assert res.exit_code == 1
    assert res.stdout == ""
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], res.stderr


def test_usage_errors_exit_2(runner, tmp_path):
    res = run(runner, "thresholds")
    assert res.exit_code == 2 and "give exactly one SOURCE" in res.stderr
    res = run(runner, "thresholds", "--torchvision", "alexnet", *measured())
    assert res.exit_code == 2
    res = run(runner, "analyze", "--torchvision", "alexnet", "--semantics", "lens-dac21")
    assert res.exit_code == 2 and "applies to --arch-file only" in res.stderr
