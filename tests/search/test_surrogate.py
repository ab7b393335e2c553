"""The fixed surrogate of trained errors: learns a known function, refuses flat fits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import spearmanr

from lens_fast import space
from lens_fast.errors import InputFileError
from lens_fast.search.surrogate import SurrogateError
from lens_fast.search.synthetic import synthetic_error
from lens_fast.space.vgg import NATIVE_COLUMNS


def _table(path, batch, errors) -> str:
    frame = pd.DataFrame(batch, columns=NATIVE_COLUMNS)
    frame["test_error"] = errors
    frame.to_csv(path, index=False)
    return str(path)


def test_learns_a_smooth_function_of_the_architecture(tmp_path):
    # The synthetic error is a fixed smooth function of the architecture: 80 rows of it
    # must rank 500 unseen architectures like the function itself does.
    batch = space.sample(80, 3)
    sur = SurrogateError(_table(tmp_path / "t.csv", batch, synthetic_error(batch)))
    unseen = space.sample(500, 4)
    pred = sur.errors(unseen)
    assert spearmanr(pred, synthetic_error(unseen)).statistic > 0.9
    assert ((pred >= 0) & (pred <= 1)).all()
    again = SurrogateError(tmp_path / "t.csv")  # deterministic: a fixed fixture
    np.testing.assert_array_equal(again.errors(unseen), pred)


def test_leave_one_out_tells_structure_from_noise(tmp_path):
    # The same 40 architectures with the smooth synthetic error, then with errors drawn
    # independently of the architecture: the GP interpolates both, but only the first
    # ranks held-out rows (measured: 0.75, and -0.70 for the noise).
    batch = space.sample(40, 5)
    smooth = SurrogateError(_table(tmp_path / "s.csv", batch, synthetic_error(batch)))
    assert smooth.loo_spearman() > 0.6
    noise = 0.7 + 0.03 * np.random.default_rng(0).standard_normal(40)
    assert SurrogateError(_table(tmp_path / "n.csv", batch, noise)).loo_spearman() < 0.3


def test_refuses_a_flat_fit(tmp_path):
    batch = space.sample(10, 6)
    with pytest.raises(InputFileError, match="flat"):
        SurrogateError(_table(tmp_path / "c.csv", batch, np.full(10, 0.5)))


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "missing column 'error' for a surrogate table \\(errors go in 'test_error'"),
        ("short", "needs >= 5 rows, got 3"),
        ("nan", r"must be in \[0, 1\], got nan \(row 2\)"),
        ("range", r"must be in \[0, 1\], got 1.5 \(row 1\)"),
    ],
)
def test_bad_tables(tmp_path, case, message):
    batch = space.sample(6, 7)
    errors = np.linspace(0.2, 0.7, 6)
    path = tmp_path / f"{case}.csv"
    if case == "missing":
        pd.DataFrame(batch, columns=NATIVE_COLUMNS).to_csv(path, index=False)
    elif case == "short":
        _table(path, batch[:3], errors[:3])
    else:
        errors[1 if case == "nan" else 0] = np.nan if case == "nan" else 1.5
        _table(path, batch, errors)
    with pytest.raises(InputFileError, match=message):
        SurrogateError(path)
    with pytest.raises(InputFileError, match="no such surrogate table"):
        SurrogateError(tmp_path / "absent.csv")
