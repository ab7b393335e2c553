"""Shared fixtures: paths to ../shared/data (skipped when absent) and small devices."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO / ".." / "shared" / "data").resolve()


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory):
    """Predictor caches go to a temporary folder, never the user's home."""
    os.environ["LENS_FAST_CACHE_DIR"] = str(tmp_path_factory.mktemp("lens-fast-cache"))


def shared_path(*parts: str) -> Path:
    """A file under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the project's shared data folder is absent on this machine)")
    return path


@pytest.fixture(scope="session")
def tx2_table_path() -> Path:
    return shared_path("tx2", "tx2_layer_profile.csv")


@pytest.fixture(scope="session")
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)
