"""The paper's front comparisons on hand-made fronts, and loading runs and CSV files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lens_fast.errors import InputFileError, ParetoError, RunStoreError
from lens_fast.search.compare import compare, load_result_set
from lens_fast.search.pareto import compare_fronts, default_reference, paper_front
from tests.search.fakes import make_run

# Hand-made fronts (error, metric). A's three points are mutually non-dominated.
A = [[0.1, 10.0], [0.2, 5.0], [0.3, 2.0]]
# B: (0.1, 12) is dominated by A's (0.1, 10); (0.2, 5) duplicates A's (dominated by
# nobody); (0.25, 4) and (0.4, 1) are dominated by no member of A.
B = [[0.25, 4.0], [0.1, 12.0], [0.4, 1.0], [0.2, 5.0]]
# B searched on all-edge values; the paper re-scores the all-edge front members only:
# all-edge front = rows 0, 1, 3 (row 2 is dominated by row 1) -> (0.1, 12), (0.2, 4),
# (0.4, 3); row 2's partitioned 1.0 would be the best but is never looked at.
B_EDGE = [[0.1, 20.0], [0.2, 10.0], [0.3, 30.0], [0.4, 5.0]]
B_PART = [12.0, 4.0, 1.0, 3.0]


def test_compare_hand_made_fronts():
    cmp = compare_fronts(A, B, ref=[0.5, 15.0])
    assert cmp.a_dominates_b_pct == pytest.approx(25.0)  # 1 of B's 4
    assert cmp.b_dominates_a_pct == 0.0
    # front of the union: A's 3 + B's (0.2, 5), (0.25, 4), (0.4, 1) -> A has 3 of 6
    assert cmp.a_share_of_combined_pct == pytest.approx(50.0)
    # strips in ascending error: A 0.4*5 + 0.3*5 + 0.2*3; B 0.4*3 + 0.3*7 + 0.25*1 + 0.1*3
    assert cmp.hv_a == pytest.approx(4.1, rel=1e-14)
    assert cmp.hv_b == pytest.approx(3.85, rel=1e-14)
    assert cmp.front_b.tolist() == [[0.1, 12.0], [0.2, 5.0], [0.25, 4.0], [0.4, 1.0]]
    # no reference: 1.1 x the maximum over both fronts
    assert compare_fronts(A, B).reference.tolist() == pytest.approx([0.44, 13.2])


def test_paper_front_rescores_only_the_all_edge_front():
    front = paper_front(B_EDGE, B_PART)
    assert front.tolist() == [[0.1, 12.0], [0.2, 4.0], [0.4, 3.0]]
    cmp = compare_fronts(A, B_EDGE, b_partitioned=B_PART, ref=[0.5, 15.0])
    assert cmp.a_dominates_b_pct == pytest.approx(200 / 3)  # (0.1, 12) and (0.4, 3)
    assert cmp.b_dominates_a_pct == pytest.approx(100 / 3)  # A's (0.2, 5) by (0.2, 4)
    # union front: A's (0.1, 10), (0.3, 2) and B's (0.2, 4)
    assert cmp.a_share_of_combined_pct == pytest.approx(200 / 3)
    # B: 0.4*3 + 0.3*8 + 0.1*1
    assert cmp.hv_b == pytest.approx(3.7, rel=1e-14)
    with pytest.raises(ParetoError, match="one value per point, got 3, expected 4"):
        paper_front(B_EDGE, B_PART[:3])


def test_identical_sets_share_the_front_equally_and_dominate_nothing():
    cmp = compare_fronts(A, A)
    assert (cmp.a_dominates_b_pct, cmp.b_dominates_a_pct) == (0.0, 0.0)
    assert cmp.a_share_of_combined_pct == 50.0 and cmp.hv_a == cmp.hv_b


def test_default_reference_and_empty_sets():
    assert default_reference([[1.0, -2.0, 0.0]]).tolist() == pytest.approx([1.1, -1.8, 0.1])
    with pytest.raises(ParetoError, match="at least 1 point, got 0"):
        compare_fronts(np.empty((0, 2)), B)


def csv_file(tmp_path, name, rows, columns):
    path = tmp_path / name
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    return path


def test_compare_csv_files_with_partitioned_columns(tmp_path):
    a = csv_file(tmp_path, "a.csv", [[e, m, 2 * m] for e, m in A], ["error", "energy", "latency"])
    b = csv_file(
        tmp_path,
        "b.csv",
        [[e, m, 2 * m, p, 2 * p] for (e, m), p in zip(B_EDGE, B_PART, strict=True)],
        ["error", "energy", "latency", "energy_partitioned", "latency_partitioned"],
    )
    result = compare(load_result_set(a), load_result_set(b))
    energy, latency = result["energy"], result["latency"]
    assert energy["a_dominates_b_pct"] == pytest.approx(200 / 3)
    assert latency["b_dominates_a_pct"] == pytest.approx(100 / 3)
    assert energy["front_b"] == [[0.1, 12.0], [0.2, 4.0], [0.4, 3.0]]
    assert latency["front_b"] == [[0.1, 24.0], [0.2, 8.0], [0.4, 6.0]]
    # CSV: no manifests, so 1.1 x the maximum over both fronts
    assert energy["reference"]["point"] == pytest.approx([0.44, 13.2])
    assert "1.1 x" in energy["reference"]["source"]


def run_values(points, edge=None):
    """Store columns from (error, energy) pairs; latency = 2 x energy."""
    pts = np.asarray(points, dtype=np.float64)
    deployed = pts[:, 1]
    edge_vals = deployed if edge is None else np.asarray(edge, dtype=np.float64)
    return {
        "error": pts[:, 0],
        "energy_mj": deployed,
        "latency_ms": 2 * deployed,
        "edge_energy_mj": edge_vals,
        "edge_latency_ms": 2 * edge_vals,
    }


def test_compare_run_folders_edge_objective_and_shared_reference(tmp_path):
    ref = [0.5, 30.0, 15.0]  # error, latency ms, energy mJ
    a = make_run(tmp_path / "lens", 0, 1, "lens", ref, values=run_values(A))
    edge_points = [[e, p] for (e, _), p in zip(B_EDGE, B_PART, strict=True)]
    b = make_run(
        tmp_path / "trad",
        0,
        2,
        "edge",
        ref,
        values=run_values(edge_points, edge=[m for _, m in B_EDGE]),
    )
    result = compare(load_result_set(a), load_result_set(b))
    assert result["energy"]["front_b"] == [[0.1, 12.0], [0.2, 4.0], [0.4, 3.0]]
    assert result["energy"]["reference"]["point"] == [0.5, 15.0]
    assert result["latency"]["reference"]["point"] == [0.5, 30.0]
    assert "manifests" in result["energy"]["reference"]["source"]
    assert result["energy"]["hv_a"] == pytest.approx(4.1, rel=1e-14)
    assert result["latency"]["hv_a"] == pytest.approx(8.2, rel=1e-14)  # metric doubled
    # a different reference in one manifest: back to 1.1 x the maximum of the fronts
    c = make_run(tmp_path / "other", 0, 3, "lens", [0.9, 30.0, 15.0], values=run_values(A))
    result = compare(load_result_set(c), load_result_set(b), ("energy",))
    assert list(result) == ["energy"]
    assert result["energy"]["reference"]["point"] == pytest.approx([0.44, 12 * 1.1])


def test_loading_refuses_bad_sources(tmp_path):
    with pytest.raises(InputFileError, match="no run folder or CSV file at"):
        load_result_set(tmp_path / "absent")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RunStoreError, match="is not a lens-fast run"):
        load_result_set(tmp_path / "empty")
    bad = csv_file(tmp_path, "bad.csv", [[0.1, "x", 3.0]], ["error", "energy", "latency"])
    with pytest.raises(InputFileError, match="column 'energy' must hold finite numbers, got 'x'"):
        load_result_set(bad)
    none = make_run(tmp_path / "none", 0, 1, values=run_values(np.empty((0, 2))))
    with pytest.raises(RunStoreError, match="holds no trials yet"):
        load_result_set(none)
    weird = make_run(tmp_path / "weird", 0, 1, "lens", ["a", 1, 2], values=run_values(A))
    with pytest.raises(RunStoreError, match="reference_point must be 3 finite numbers"):
        load_result_set(weird)
