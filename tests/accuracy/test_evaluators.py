"""Evaluators: the cache (no candidate trained twice), keys, the factory, the proxies."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from torch import nn

from lens_fast.accuracy import proxy
from lens_fast.accuracy.cache import ResultCache, cache_key
from lens_fast.accuracy.evaluators import ProxyEvaluator, TrainEvaluator, make_evaluator
from lens_fast.accuracy.train import Recipe
from lens_fast.errors import LensError
from lens_fast.space.vgg import smallest

TINY = {"epochs": 1, "subset": 64, "val_images": 32, "test_images": 64, "device": "cpu"}


def _variants():
    a = smallest()
    b = a.copy()
    b[0] = 36  # f1 = 36
    return a, b


def test_cache_hits_mean_no_training(tmp_path):
    a, b = _variants()
    ev = make_evaluator("train", data="digits", cache_dir=tmp_path, **TINY)
    first = ev.errors(np.stack([a, b, a]))
    assert ev.computed == 2  # the duplicate row is trained once
    assert first[0] == first[2]
    assert ev.errors(np.stack([b, a])).tolist() == [first[1], first[0]]
    assert ev.computed == 2  # nothing trained again
    assert ev.cache.hits >= 2
    # Another evaluator (another run) sharing the folder trains nothing either.
    again = make_evaluator("train", data="digits", cache_dir=tmp_path, **TINY)
    assert again.errors(np.stack([a, b])).tolist() == [first[0], first[1]]
    assert again.computed == 0
    # A different seed is a different recipe: trained anew.
    other = make_evaluator("train", data="digits", cache_dir=tmp_path, seed=1, **TINY)
    other.errors(a[None])
    assert other.computed == 1
    assert len(ResultCache(tmp_path)) == 3
    record = next(tmp_path.glob("??/*.json"))
    assert {"arch", "data", "options", "result", "key"} <= set(json.loads(record.read_text()))


def test_cache_key_covers_architecture_data_recipe_and_seed(tmp_path):
    a, b = _variants()
    recipe = Recipe().as_dict()
    base = cache_key(a, "fp", recipe)
    assert base == cache_key(a.tolist(), "fp", dict(recipe))
    assert len({base, cache_key(b, "fp", recipe), cache_key(a, "fp2", recipe),
                cache_key(a, "fp", {**recipe, "seed": 1}),
                cache_key(a, "fp", {**recipe, "lr": 0.02}),
                cache_key(a, "fp", recipe, kind="proxy")}) == 6  # fmt: skip
    # A damaged entry is a miss, not a crash; a good one is read back.
    cache = ResultCache(tmp_path)
    cache.put(base, {"result": {"test_error": 0.25}})
    assert ResultCache(tmp_path).get(base)["result"]["test_error"] == 0.25
    (tmp_path / base[:2] / f"{base}.json").write_text("{not json")
    assert ResultCache(tmp_path).get(base) is None


def test_factory_options_and_description(tmp_path):
    ev = make_evaluator("train", data="digits", epochs=2, subset=100, seed=7, lr=0.05,
                        workers=None)  # fmt: skip
    assert isinstance(ev, TrainEvaluator)
    d = ev.describe()
    assert d["name"] == "train" and d["data"]["name"] == "digits" and d["executor"] == "serial"
    assert d["recipe"]["epochs"] == 2 and d["recipe"]["train_images"] == 100
    assert d["recipe"]["seed"] == 7 and d["recipe"]["lr"] == 0.05
    json.dumps(d)
    with pytest.raises(LensError, match="unknown option 'epoch' for the train evaluator"):
        make_evaluator("train", epoch=3)
    with pytest.raises(LensError, match="must be one of train, proxy, got 'synthetic-x'"):
        make_evaluator("synthetic-x")
    with pytest.raises(LensError, match="executor must be one of serial, local, dask, got 'mpi'"):
        make_evaluator("train", executor="mpi").errors(smallest()[None])
    with pytest.raises(LensError, match="proxy score must be one of naswot, synflow"):
        make_evaluator("proxy", score="snip")


def test_naswot_matches_a_hand_computed_kernel():
    lin = nn.Linear(4, 5)
    model = nn.Sequential(lin, nn.ReLU())
    x = torch.tensor([[1.0, -2.0, 0.5, 3.0], [0.0, 1.0, -1.0, 2.0], [2.0, 2.0, -3.0, 0.0]])
    with torch.no_grad():
        codes = (lin(x) > 0).double().numpy()
    k = codes @ codes.T + (1 - codes) @ (1 - codes).T
    assert np.diag(k).tolist() == [5.0, 5.0, 5.0]  # each image agrees with itself everywhere
    expected = math.log(abs(np.linalg.det(k))) / 3 if abs(np.linalg.det(k)) > 0 else -math.inf
    assert proxy.naswot_score(model, x) == pytest.approx(expected, rel=1e-12)


def test_synflow_closed_form_on_a_linear_layer():
    lin = nn.Linear(3, 1)
    with torch.no_grad():
        lin.weight.copy_(torch.tensor([[0.5, -2.0, 1.0]]))
        lin.bias.fill_(-0.25)
    # R = sum_j |w_j| * 1 + |b|, and sum |theta * dR/dtheta| = sum |w_j| + |b| = 3.75
    model = nn.Sequential(nn.Flatten(), lin)
    assert proxy.synflow_score(model, input_side=1, in_channels=3) == pytest.approx(
        math.log(3.75), rel=1e-12
    )


def test_error_estimate_is_monotone_and_bounded():
    cal = {"a": 2.0, "b": -0.5}
    s = np.array([-np.inf, 0.0, 1.0, 4.0, 10.0, np.nan])
    e = proxy.estimate_error(s, "naswot", cal)
    assert e[0] == pytest.approx(0.9) and e[-1] == pytest.approx(0.9)  # unusable -> chance
    assert e[1] == pytest.approx(0.9 / (1 + math.exp(-2.0)))
    assert np.all(np.diff(e[1:5]) < 0) and np.all((e > 0) & (e <= 0.9))
    # fit_calibration recovers a curve from its own points
    x = np.linspace(-3, 8, 25)
    fit = proxy.fit_calibration(x, proxy.estimate_error(x, "naswot", cal))
    assert fit["a"] == pytest.approx(2.0, abs=1e-4) and fit["b"] == pytest.approx(-0.5, abs=1e-4)


def test_proxy_evaluator_is_deterministic_and_cached(tmp_path):
    a, b = _variants()
    ev = make_evaluator("proxy", data="digits", score="naswot", batch=16, device="cpu",
                        cache_dir=tmp_path)  # fmt: skip
    assert isinstance(ev, ProxyEvaluator)
    s1 = ev.scores(np.stack([a, b]))
    assert ev.computed == 2 and np.isfinite(s1).all()
    fresh = ProxyEvaluator("digits", "naswot", batch=16, device="cpu")
    assert fresh.scores(np.stack([a, b])).tolist() == s1.tolist()  # recomputed, identical
    errs = ev.errors(np.stack([a, b]))
    assert ev.computed == 2  # scores came from the cache
    assert errs.tolist() == proxy.estimate_error(s1, "naswot").tolist()
    # log|det K| / n is at most log(units) for n images of `units` ReLUs each
    units = sum(24 * (32 // 2**i) ** 2 for i in range(5)) + 256
    assert s1[0] <= math.log(units)


def test_shipped_calibration_matches_the_saved_table():
    from scipy.stats import spearmanr

    from lens_fast.space.io import read_architectures
    from tests.conftest import REPO

    table = REPO / "bench" / "results" / "trained_errors.csv"
    if not table.exists():
        pytest.skip(f"needs {table} (written by bench/bench_training.py)")
    import pandas as pd

    frame = pd.read_csv(table, comment="#")
    assert read_architectures(table).shape == (len(frame), 22) and len(frame) >= 30
    for kind, cal in proxy.CALIBRATION.items():
        rho = spearmanr(frame[kind], frame["test_error"]).statistic
        assert rho == pytest.approx(cal["spearman"], abs=1e-4)
        assert np.sign(cal["b"]) == np.sign(rho)  # the fitted curve ranks as the data do
    assert make_evaluator("proxy", data="digits").describe()["kind"] == proxy.DEFAULT_SCORE
