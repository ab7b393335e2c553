"""Per-country tables: single model against naive, batches against the core."""

from __future__ import annotations

import numpy as np
import pytest

from lens_fast import PerformanceModel, space
from lens_fast.errors import InputFileError, NetworkError
from lens_fast.network import radio
from lens_fast.runtime import sources
from lens_fast.runtime.regions import batch_regions, read_countries, regions
from lens_fast.runtime.thresholds import envelope
from tests import naive
from tests.conftest import shared_path


def test_every_country_matches_naive_best():
    countries = read_countries(shared_path("network", "upload_mbps_by_country.csv"))
    assert len(countries) == 106 and set(countries.region) >= {"Africa", "Europe"}
    prof = sources.from_measured(
        shared_path("tx2", "tx2_measured_layers.csv"), "alexnet", "cpu", radio=radio("lte")
    )
    opts = prof.options()
    envs = {m: envelope(opts, m, prof.radio) for m in ("latency", "energy")}
    recs = regions(opts, envs, countries, prof.radio)
    ref_opts = [
        (opts.names[j], opts.size_bytes[j], opts.base_latency_ms[j], opts.base_energy_mj[j])
        for j in range(len(opts))
    ]
    for rec in recs:
        ms, mj = naive.prices(rec["upload_mbps"], 438.39, 1288.04)
        lat, lat_name = naive.best(ref_opts, 0, ms)
        en, en_name = naive.best(ref_opts, 1, mj)
        assert (rec["latency_option"], rec["energy_option"]) == (lat_name, en_name)
        assert rec["latency_ms"] == pytest.approx(lat, rel=1e-12)
        assert rec["energy_mj"] == pytest.approx(en, rel=1e-12)


def test_batch_regions_match_brute_force_with_evaluate():
    countries = read_countries(shared_path("network", "upload_mbps_by_country.csv"))
    model = PerformanceModel("builtin", "lte")
    batch = space.sample(3000, seed=17)
    per_country, wins = batch_regions(model, batch, countries, chunk=700)
    ev = model.evaluate(batch, countries.upload_mbps)
    lat_row = np.argmin(ev.latency_ms, axis=0)
    en_row = np.argmin(ev.energy_mj, axis=0)
    for j, rec in enumerate(per_country):
        assert rec["latency_row"] == lat_row[j] and rec["energy_row"] == en_row[j]
        assert rec["latency_ms"] == ev.latency_ms[lat_row[j], j]
        assert rec["latency_option"] == ev.split_names[ev.latency_split[lat_row[j], j]]
    assert sum(w["latency_countries"] for w in wins) == 106
    assert sum(w["energy_countries"] for w in wins) == 106


def test_bad_country_tables(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text("region,country\nAsia,India\n")
    with pytest.raises(InputFileError, match="expected region,country,upload_mbps"):
        read_countries(p)
    p.write_text("region,country,upload_mbps\nAsia,India,0\n")
    with pytest.raises(NetworkError, match=r"got 0 \(row 1 of c.csv, country 'India'\)"):
        read_countries(p)
