"""Profile tables, exact look-up, XGBoost predictors, profile folders."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lens_fast import PerformanceModel, space
from lens_fast.device import (
    TableDevice,
    from_frame,
    load_device,
    load_profile,
    load_table,
    save_profile,
)
from lens_fast.device import predictors as pred
from lens_fast.errors import InputFileError, ProfileError
from lens_fast.space.catalog import catalog

GOOD = pd.DataFrame(
    {
        "op": ["conv", "relu", "pool", "fc", "batchnorm"],
        "in_features": [150528, 1000, 4000, 512, 1000],
        "out_features": [None, None, 1000, 10, None],
        "k2f": [216, None, None, None, None],
        "latency_ms": [1.5, 0.2, 0.3, 0.4, 0.25],
        "power_w": [5.0, 4.0, 4.5, 6.0, 4.2],
    }
)


def _write(tmp_path, frame, name="t.csv"):
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda f: f.drop(columns="power_w"), r"missing column 'power_w'"),
        (
            lambda f: f.assign(latency_ms=[1.5, -0.2, 0.3, 0.4, 0.25]),
            r"latency must be a finite number > 0, got -0.2 in row 2",
        ),
        (
            lambda f: f.assign(power_w=[5.0, 4.0, np.nan, 6.0, 4.2]),
            r"power must be a finite number > 0, got nan in row 3",
        ),
        (
            lambda f: f.assign(op=["conv", "relu", "pool", "softmax", "batchnorm"]),
            r"unknown op 'softmax' in row 4",
        ),
        (
            lambda f: f.assign(k2f=[None, None, None, None, None]),
            r"conv rows need a positive integer k2f",
        ),
        (
            lambda f: f.assign(latency_ms=["1.5", "x", "0.3", "0.4", "0.25"]),
            r"column 'latency_ms' row 2 is not a number",
        ),
    ],
)
def test_bad_tables_give_one_line_errors(tmp_path, mutate, message):
    path = _write(tmp_path, mutate(GOOD.copy()))
    with pytest.raises(ProfileError, match=message) as err:
        load_table(path)
    assert "\n" not in str(err.value)


def test_unreadable_and_missing_files(tmp_path):
    with pytest.raises(InputFileError, match="no such file"):
        load_table(tmp_path / "nope.csv")
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet at all")
    with pytest.raises(InputFileError, match="cannot read table"):
        load_table(bad)


def test_repeated_configs_are_averaged_and_hash_ignores_format(tmp_path):
    frame = pd.concat([GOOD, GOOD.assign(latency_ms=GOOD.latency_ms * 3)], ignore_index=True)
    table = from_frame(frame)
    assert len(table) == 5
    row = table.frame[table.frame.op == "conv"].iloc[0]
    assert row.latency_ms == pytest.approx(3.0) and row.n_samples == 2
    csv_path, pq_path = tmp_path / "a.csv", tmp_path / "a.parquet"
    frame.to_csv(csv_path, index=False)
    frame.to_parquet(pq_path, index=False)
    assert load_table(csv_path).content_hash == load_table(pq_path).content_hash
    assert load_table(csv_path).content_hash != from_frame(GOOD).content_hash


def test_tx2_table_serves_every_config_exactly_in_lens_dac21(tx2_table_path):
    """The authors' table covers the space: no config is predicted in lens-dac21."""
    device = load_device(tx2_table_path)
    batch = space.sample(200_000, seed=3)
    cat = catalog(batch, "lens-dac21")
    assert device.exact_count(cat) == len(cat) > 300
    ev = PerformanceModel(device, semantics="lens-dac21").evaluate(batch[:10], [5.0])
    assert ev.catalog_exact == len(ev.catalog)
    assert device._predictors is None  # never needed: nothing was fitted


def test_exact_lookup_returns_table_values(tx2_table_path):
    table = load_table(tx2_table_path)
    device = TableDevice(table)
    rows = table.frame.sample(50, random_state=0)
    from lens_fast.space.catalog import OP_NAMES

    op = np.array([OP_NAMES.index(o) for o in rows.op])
    lat, pw, exact = device.costs(
        op, rows.in_features.to_numpy(), rows.out_features.to_numpy(), rows.k2f.to_numpy()
    )
    assert exact.all()
    np.testing.assert_array_equal(lat, rows.latency_ms.to_numpy())
    np.testing.assert_array_equal(pw, rows.power_w.to_numpy())


def test_predictors_fit_save_reload_identically(tmp_path, tx2_table_path):
    raw = pd.read_csv(tx2_table_path)
    table = from_frame(raw[raw.origin == "random"], {"device": "tx2 random rows"})
    fitted = save_profile(table, tmp_path / "prof")
    mape = fitted.mape_table().set_index(["op", "target"]).heldout_mape_pct
    assert mape[("conv", "latency_ms")] < 10 and mape[("relu", "power_w")] < 5
    device = load_profile(tmp_path / "prof")
    x = np.array([[150528.0, 216.0], [1e6, 6400.0]])
    a = fitted.predict("conv", x)
    b = device.predictors.predict("conv", x)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    # Predictions of unseen VGG-space configs are close to the authors' values.
    held = raw[(raw.origin == "vgg_space") & (raw.op == "conv")]
    lat, _ = fitted.predict("conv", held[["in_features", "k2f"]].to_numpy(float))
    assert np.median(np.abs(lat / held.latency_ms.to_numpy() - 1)) < 0.10


def test_profile_folder_refuses_an_edited_table(tmp_path):
    save_profile(from_frame(GOOD), tmp_path / "p")
    frame = pd.read_csv(tmp_path / "p" / "table.csv")
    frame.loc[0, "latency_ms"] = 9.0
    frame.to_csv(tmp_path / "p" / "table.csv", index=False)
    with pytest.raises(ProfileError, match="changed after the predictors were fitted"):
        load_profile(tmp_path / "p")


def test_missing_op_cannot_be_predicted():
    device = TableDevice(from_frame(GOOD[GOOD.op != "batchnorm"]))
    with pytest.raises(ProfileError, match=r"no 'batchnorm' rows"):
        PerformanceModel(device).evaluate(space.sample(2, seed=0), [1.0])


def test_predictor_cache_is_reused(tmp_path, tx2_table_path, monkeypatch):
    raw = pd.read_csv(tx2_table_path)
    path = tmp_path / "rand.csv"
    raw[raw.origin == "random"].to_csv(path, index=False)
    monkeypatch.setenv("LENS_FAST_CACHE_DIR", str(tmp_path / "cache"))
    first = load_device(path)
    _ = first.predictors
    fits = []
    monkeypatch.setattr(pred, "fit", lambda *a, **k: fits.append(1))
    second = load_device(path)
    assert second.predictors.table_hash == first.content_hash and not fits


def covering_batch() -> np.ndarray:
    """Architectures that together contain every layer config of the space: each pool
    pattern x block x preceding width x width x kernel (two layers, so the second sees
    the block's own width), and each flatten source x (fc1, fc2) pair."""
    from lens_fast.space import vgg

    rows = []
    patterns = [[int(b != m) for b in range(5)] for m in range(6)]  # m = 5: all pools
    for pools in patterns:
        for b in range(5):
            for f_prev in vgg.F_CHOICES:
                for f in vgg.F_CHOICES:
                    for k in vgg.K_CHOICES:
                        row = [24, 3, 1] * 5 + pools + [256, 0]
                        if b > 0:
                            row[3 * (b - 1)] = f_prev
                        row[3 * b : 3 * b + 3] = [f, k, 2]
                        rows.append(row)
        for f5 in vgg.F_CHOICES:
            for fc1 in (0, *vgg.FC_CHOICES):
                for fc2 in (0, *vgg.FC_CHOICES):
                    if fc1 or fc2:
                        rows.append([24, 3, 1] * 4 + [f5, 3, 1] + pools + [fc1, fc2])
    return space.validate(np.asarray(rows))


@pytest.mark.parametrize("semantics", ["lens-dac21", "native"])
def test_every_config_of_the_space_is_served_exactly_by_the_tx2_table(tx2_table_path, semantics):
    """The covering batch's catalog contains that of 500,000 random candidates (so it
    is every config the space produces), and the TX2 table answers all of it exactly."""
    cover = catalog(covering_batch(), semantics)
    random = catalog(space.sample(500_000, seed=17), semantics)
    assert set(random.config_id) <= set(cover.config_id)
    device = load_device(tx2_table_path)
    assert device.exact_count(cover) == len(cover)
    assert device._predictors is None  # nothing had to be predicted
