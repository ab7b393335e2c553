"""The VGG space: encodings, validation messages, conversions, uniform sampling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lens_fast import space
from lens_fast.errors import SpaceError
from lens_fast.space import vgg

# The authors' "Model a" (paper encoding, from their released obj_caller script).
MODEL_A_PAPER = [24, 3, 2, 36, 3, 1, 128, 7, 1, 24, 5, 1, 96, 5, 1, 5, 512, 256]


def test_column_names_and_widths():
    assert len(space.NATIVE_COLUMNS) == 22 and len(space.PAPER_COLUMNS) == 18
    assert space.NATIVE_COLUMNS[:3] == ("f1", "k1", "l1")
    assert space.NATIVE_COLUMNS[15:] == ("pool1", "pool2", "pool3", "pool4", "pool5", "fc1", "fc2")
    assert space.PAPER_COLUMNS[15:] == ("p", "fc1", "fc2")


def test_space_size_closed_form():
    # (6 filters * 3 kernels * 3 depths)^5 blocks * 6 pool patterns * 48 (fc1, fc2) pairs
    assert space.space_size() == 54**5 * 6 * 48 == 132_239_526_912


def test_paper_to_native_model_a():
    native = space.paper_to_native(np.array([MODEL_A_PAPER]))[0]
    assert native[:15].tolist() == MODEL_A_PAPER[:15]
    assert native[15:20].tolist() == [1, 1, 1, 1, 0]  # p = 5: block 5 has no pool
    assert native[20:].tolist() == [512, 256]
    arch = space.decode(MODEL_A_PAPER, "paper")
    assert arch.blocks[0] == space.Block(filters=24, kernel=3, layers=2, pool=True)
    assert arch.num_pools == 4 and arch.fc1 == 512 and arch.fc2 == 256


def test_paper_p6_means_all_pools():
    row = [*MODEL_A_PAPER[:15], 6, 1024, 0]
    native = space.paper_to_native(np.array([row]))[0]
    assert native[15:20].tolist() == [1, 1, 1, 1, 1] and native[20:].tolist() == [1024, 0]


def test_native_paper_round_trip():
    batch = space.sample(5000, seed=7)
    with_fc1 = batch[batch[:, 20] != 0]
    back = space.paper_to_native(space.native_to_paper(with_fc1))
    np.testing.assert_array_equal(back, with_fc1)
    only_fc2 = batch[batch[:, 20] == 0]
    paper = space.native_to_paper(only_fc2)
    np.testing.assert_array_equal(paper[:, 16], only_fc2[:, 21])  # the single FC becomes FC1
    assert (paper[:, 17] == 0).all()


@pytest.mark.parametrize(
    ("col", "value", "message"),
    [
        (1, 4, "row 2: field k1 = 4 not in {3, 5, 7}"),
        (0, 25, "row 2: field f1 = 25 not in {24, 36, 64, 96, 128, 256}"),
        (14, 0, "row 2: field l5 = 0 not in {1, 2, 3}"),
        (16, -1, "row 2: field pool2 = -1 not in {0, 1}"),
        (21, 300, "row 2: field fc2 = 300 not in {0, 256, 512, 1024, 2048, 4096, 8192}"),
    ],
)
def test_validation_names_field_value_allowed(col, value, message):
    batch = space.sample(4, seed=1)
    batch[2, col] = value
    with pytest.raises(SpaceError) as err:
        space.validate(batch)
    assert str(err.value) == message


def test_validation_structural_rules():
    batch = space.sample(3, seed=2)
    batch[1, 15:20] = [1, 0, 1, 0, 1]
    with pytest.raises(SpaceError, match=r"row 1: at least 4 of the 5 pools"):
        space.validate(batch)
    batch = space.sample(3, seed=2)
    batch[0, 20:22] = 0
    with pytest.raises(SpaceError, match=r"row 0: at least one of fc1, fc2"):
        space.validate(batch)
    paper = space.native_to_paper(space.sample(3, seed=3))
    paper[2, 15] = 7
    with pytest.raises(SpaceError, match=r"row 2: field p = 7 not in \{1, 2, 3, 4, 5, 6\}"):
        space.validate(paper, "paper")
    paper[2, 15] = 6
    paper[2, 16] = 0
    with pytest.raises(SpaceError, match=r"field fc1 = 0 not in \{256"):
        space.validate(paper, "paper")


def test_validation_rejects_shapes_nan_and_fractions():
    with pytest.raises(SpaceError, match=r"must be n x 22"):
        space.validate(np.zeros((2, 21), dtype=int))
    bad = space.sample(2, seed=0).astype(float)
    bad[1, 3] = np.nan
    with pytest.raises(SpaceError, match=r"row 1: field f2 must be an integer, got nan"):
        space.validate(bad)
    bad[1, 3] = 24.5
    with pytest.raises(SpaceError, match=r"got 24.5"):
        space.validate(bad)


def test_sampling_is_seeded_and_valid():
    a, b = space.sample(1000, seed=11), space.sample(1000, seed=11)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, space.sample(1000, seed=12))
    space.validate(a)


def test_sampling_is_uniform():
    """Pool patterns, (fc1, fc2) pairs and filter choices each uniform (5-sigma bounds)."""
    n = 240_000
    batch = space.sample(n, seed=5)
    patterns, counts = np.unique(batch[:, 15:20], axis=0, return_counts=True)
    assert len(patterns) == 6
    sigma = np.sqrt(n * (1 / 6) * (5 / 6))
    assert np.all(np.abs(counts - n / 6) < 5 * sigma)
    pairs, counts = np.unique(batch[:, 20:22], axis=0, return_counts=True)
    assert len(pairs) == 48 and not ((pairs[:, 0] == 0) & (pairs[:, 1] == 0)).any()
    sigma = np.sqrt(n * (1 / 48) * (47 / 48))
    assert np.all(np.abs(counts - n / 48) < 5 * sigma)
    values, counts = np.unique(batch[:, 6], return_counts=True)
    assert values.tolist() == list(vgg.F_CHOICES)
    assert np.all(np.abs(counts - n / 6) < 5 * np.sqrt(n * 5 / 36))


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_encode_decode_round_trip(seed):
    row = space.sample(1, seed=seed)[0]
    arch = space.decode(row)
    np.testing.assert_array_equal(space.encode(arch), row)
    paper = space.encode(arch, "paper")
    assert space.decode(paper, "paper").blocks == arch.blocks


def test_extreme_architectures_are_valid():
    space.validate(np.stack([vgg.smallest(), vgg.largest()]))
