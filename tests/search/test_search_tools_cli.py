"""`lens-fast compare` and `lens-fast report` through click's runner."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from lens_fast.cli.main import cli
from lens_fast.search.compare import compare, load_result_set
from lens_fast.search.pareto import hypervolume, hypervolume_trace
from tests.search.fakes import make_run
from tests.search.test_compare import B_EDGE, B_PART, A, csv_file

REF = [0.6, 350.0, 2500.0]  # error, latency ms, energy mJ


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return (
        make_run(root / "lens", 150, 1, "lens", REF),
        make_run(root / "trad", 150, 2, "edge", REF),
    )


def csv_pair(tmp_path):
    a = csv_file(tmp_path, "a.csv", [[e, m, 2 * m] for e, m in A], ["error", "energy", "latency"])
    b = csv_file(
        tmp_path,
        "b.csv",
        [[e, m, 2 * m, p, 2 * p] for (e, m), p in zip(B_EDGE, B_PART, strict=True)],
        ["error", "energy", "latency", "energy_partitioned", "latency_partitioned"],
    )
    return a, b


# ------------------------------------------------------------------ compare
def test_compare_json_of_csv_files(runner, tmp_path):
    a, b = csv_pair(tmp_path)
    res = run(runner, "compare", a, b, "--format", "json")
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert set(out) == {"energy", "latency"}
    for m, scale in (("energy", 1), ("latency", 2)):
        r = out[m]
        assert r["a_dominates_b_pct"] == pytest.approx(200 / 3)
        assert r["b_dominates_a_pct"] == pytest.approx(100 / 3)
        assert r["a_share_of_combined_pct"] == pytest.approx(200 / 3)
        assert r["front_a"] == [[e, scale * v] for e, v in A]
        assert r["front_b"] == [[0.1, scale * 12.0], [0.2, scale * 4.0], [0.4, scale * 3.0]]
        # reference 1.1 x max of both fronts: (0.44, 13.2 * scale); A's strips:
        # 0.34*(13.2-10) + 0.24*(10-5) + 0.14*(5-2), times the metric's scale
        assert r["reference"]["point"] == pytest.approx([0.44, 13.2 * scale])
        assert r["hv_a"] == pytest.approx(scale * (0.34 * 3.2 + 0.24 * 5 + 0.14 * 3), rel=1e-12)
    assert "hypervolume reference: 1.1 x the maximum over both fronts" in res.stderr


def test_compare_table_and_single_metric(runner, runs):
    res = run(runner, "compare", *runs, "--metric", "latency")
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 2 and lines[0].split()[0] == "metric"
    want = compare(load_result_set(runs[0]), load_result_set(runs[1]), ("latency",))["latency"]
    cells = lines[1].split()
    assert cells[:2] == ["latency", "(ms)"]
    assert float(cells[2]) == pytest.approx(want["a_dominates_b_pct"], rel=1e-5)
    assert int(cells[7]) == len(want["front_a"]) and cells[9] == "0.6x350"
    res = run(runner, "compare", *runs, "--metric", "energy", "--format", "json")
    assert list(json.loads(res.stdout)) == ["energy"]


def absent(p):
    return p / "absent"


def no_manifest(p):
    (p / "empty").mkdir()
    return p / "empty"


def torn_manifest(p):
    (p / "torn").mkdir()
    (p / "torn" / "manifest.json").write_text("{x")
    return p / "torn"


def too_few_columns(p):
    return csv_file(p, "few.csv", [[0.1, 2.0]], ["error", "energy"])


def not_text(p):
    (p / "junk.csv").write_bytes(b"\xff\xfe\x00garbage")
    return p / "junk.csv"


@pytest.mark.parametrize(
    "make,message",
    [
        (absent, "no run folder or CSV file at"),
        (no_manifest, "is not a lens-fast run (no manifest.json)"),
        (torn_manifest, "is corrupted (not valid JSON)"),
        (too_few_columns, "missing column 'latency', expected columns error, energy, latency"),
        (not_text, "cannot read"),
    ],
)
def test_compare_user_errors_are_one_line(runner, tmp_path, make, message):
    a, _ = csv_pair(tmp_path)
    bad = make(tmp_path)
    res = run(runner, "compare", a, bad)
    assert res.exit_code == 1
    assert res.stdout == ""
    assert res.stderr.startswith("error: ") and message in res.stderr, res.stderr
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr


def test_compare_usage_errors_exit_2(runner, tmp_path):
    a, b = csv_pair(tmp_path)
    assert run(runner, "compare", a).exit_code == 2
    assert run(runner, "compare", a, b, "--metric", "power").exit_code == 2


# ------------------------------------------------------------------ report
def test_report_of_two_runs(runner, runs, tmp_path):
    out = tmp_path / "report"
    res = run(runner, "report", *runs, "--out", out, "--error-lt", "0.2,0.3", "--energy-lt", "300")
    assert res.exit_code == 0, res.stderr
    assert res.stdout.strip() == str(out / "summary.json")
    for name in ("pareto", "hypervolume", "thresholds"):
        png = (out / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    summary = json.loads((out / "summary.json").read_text())
    a, b = (load_result_set(r) for r in runs)

    # hypervolume per evaluation, with the manifests' (shared) reference point
    assert summary["hypervolume_reference"]["point"] == REF
    hv = pd.read_csv(out / "hypervolume.csv")
    for label, result in (("lens", a), ("trad (all-edge search, partitioned after)", b)):
        trace = hv.loc[hv["run"] == label, "hypervolume"].to_numpy()
        assert len(trace) == 150
        np.testing.assert_allclose(trace, hypervolume_trace(result.objectives(), REF), rtol=1e-15)
        assert trace[-1] == pytest.approx(hypervolume(result.objectives(), REF), rel=1e-12)

    # threshold counts: error < e AND metric < x, the metric as deployed
    thr = pd.read_csv(out / "thresholds.csv")
    energy = thr[thr["metric"] == "energy"]
    assert sorted(set(energy["error_lt"])) == [0.2, 0.3] and set(energy["metric_lt"]) == {300.0}
    row = energy[(energy["run"] == "lens") & (energy["error_lt"] == 0.3)].iloc[0]
    assert row["count"] == int(((a.error < 0.3) & (a.metric("energy") < 300)).sum())
    assert row["count"] > 0 and row["unit"] == "mJ"
    latency = thr[(thr["metric"] == "latency") & (thr["run"] == "lens")]
    assert len(latency) == 2 * len(set(latency["metric_lt"]))  # default latency grid

    # fronts and the comparison agree with `compare`
    want = compare(a, b)
    fronts = pd.read_csv(out / "fronts.csv")
    got = fronts[(fronts["metric"] == "energy") & (fronts["run"] != "lens")]
    assert got[["error", "energy"]].to_numpy().tolist() == want["energy"]["front_b"]
    assert summary["comparison"]["energy"]["hv_a"] == want["energy"]["hv_a"]
    assert summary["runs"][1]["front_sizes"]["latency"] == len(want["latency"]["front_b"])


def test_report_of_one_csv_without_manifest_reference(runner, tmp_path):
    a, _ = csv_pair(tmp_path)
    res = run(runner, "report", a, "--out", tmp_path / "one")
    assert res.exit_code == 0, res.stderr
    summary = json.loads((tmp_path / "one" / "summary.json").read_text())
    assert "comparison" not in summary and len(summary["runs"]) == 1
    # 1.1 x the maximum over all trials of (error, latency, energy)
    assert summary["hypervolume_reference"]["point"] == pytest.approx([0.33, 22.0, 11.0])
    pts = [[e, 2 * m, m] for e, m in A]
    want = hypervolume(pts, [0.33, 22.0, 11.0])
    assert summary["runs"][0]["final_hypervolume"] == pytest.approx(want, rel=1e-12)


def test_report_user_and_usage_errors(runner, runs, tmp_path):
    (tmp_path / "file").write_text("x")
    res = run(runner, "report", runs[0], "--out", tmp_path / "file")
    assert res.exit_code in (1, 2) and "file" in res.stderr
    res = run(runner, "report", runs[0], "--out", tmp_path / "r", "--error-lt", "a,b")
    assert res.exit_code == 2 and "--error-lt" in res.stderr
    res = run(runner, "report", tmp_path / "absent", "--out", tmp_path / "r")
    assert res.exit_code == 1 and res.stderr.count("\n") == 1
    assert run(runner, "report", "--out", tmp_path / "r").exit_code == 2
