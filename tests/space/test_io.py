"""Architecture files: both encodings, CSV and JSON, and the `encoding` column of search output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lens_fast.errors import InputFileError
from lens_fast.space import sample
from lens_fast.space.io import read_architectures, write_architectures
from lens_fast.space.vgg import native_to_paper, to_native


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_both_encodings_round_trip(tmp_path, suffix):
    batch = sample(50, 3)
    native = write_architectures(tmp_path / f"n{suffix}", batch)
    paper = write_architectures(tmp_path / f"p{suffix}", native_to_paper(batch), "paper")
    np.testing.assert_array_equal(read_architectures(native), batch)
    # the paper encoding names a lone hidden FC layer fc1, so that form comes back
    np.testing.assert_array_equal(
        read_architectures(paper, "paper"), to_native(native_to_paper(batch), "paper")
    )


def test_the_encoding_column_of_search_output_is_read_as_native(tmp_path):
    batch = sample(7, 4)
    text = [" ".join(str(int(v)) for v in row) for row in batch]
    path = tmp_path / "front.csv"
    pd.DataFrame({"trial_id": range(7), "error": 0.1, "encoding": text}).to_csv(path)
    np.testing.assert_array_equal(read_architectures(path), batch)


def test_a_short_encoding_field_names_the_row(tmp_path):
    path = tmp_path / "front.csv"
    pd.DataFrame({"encoding": ["64 3 1", "1 2"]}).to_csv(path, index=False)
    with pytest.raises(InputFileError, match=r"row 1: field encoding must hold 22 integers"):
        read_architectures(path)


def test_a_file_of_the_other_encoding_names_the_option(tmp_path):
    batch = sample(3, 5)
    paper = write_architectures(tmp_path / "p.csv", native_to_paper(batch), "paper")
    with pytest.raises(InputFileError, match=r"missing column 'pool1'.*give --encoding paper$"):
        read_architectures(paper)
    native = write_architectures(tmp_path / "n.csv", batch)
    with pytest.raises(InputFileError, match=r"missing column 'p'.*give --encoding native$"):
        read_architectures(native, "paper")
