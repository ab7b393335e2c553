"""Datasets: digits, CIFAR-10 from .npz, the seeded split, augmentation, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lens_fast.accuracy import data as ds
from lens_fast.errors import DataError
from tests.conftest import shared_path

DIGITS_CLASS_COUNTS = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]  # sklearn's digits


def _fake_cifar(folder, n_train=60, n_test=20, seed=0, **override):
    rng = np.random.default_rng(seed)
    arrays = {
        "train": (rng.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8),
                  np.arange(n_train) % 10),
        "test": (rng.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8),
                 np.arange(n_test) % 10),
    }  # fmt: skip
    for split, (x, y) in arrays.items():
        x, y = override.get(f"{split}_x", x), override.get(f"{split}_y", y)
        np.savez(folder / f"cifar10_{split}.npz", x=x, y=y)
    return arrays


def test_digits_split_shapes_and_classes():
    d = ds.digits()
    assert d.sizes() == {"train": 1200, "val": 200, "test": 397}
    assert d.train_x.shape == (1200, 32, 32, 3) and d.train_x.dtype == np.uint8
    counts = sum(np.bincount(y, minlength=10) for y in (d.train_y, d.val_y, d.test_y))
    assert counts.tolist() == DIGITS_CLASS_COUNTS
    assert d.train_x.max() == 255 and d.train_x.min() == 0  # 16 -> 255, 0 -> 0
    img = d.test_x[0].astype(int)
    assert (img[..., 0] == img[..., 2]).all()  # grey repeated over 3 channels
    assert (img[::4, ::4, 0].repeat(4, 0).repeat(4, 1) == img[..., 0]).all()  # 4x nearest
    assert ds.digits().fingerprint == d.fingerprint  # the split is fixed


def test_npz_folder_and_seeded_split(tmp_path):
    arrays = _fake_cifar(tmp_path)
    a = ds.cifar10(tmp_path, split_seed=1, val_images=10)
    b = ds.cifar10(tmp_path, split_seed=1, val_images=10)
    c = ds.cifar10(tmp_path, split_seed=2, val_images=10)
    assert a.sizes() == {"train": 50, "val": 10, "test": 20}
    assert a.fingerprint == b.fingerprint != c.fingerprint
    assert np.array_equal(a.test_x, arrays["test"][0])  # the test split is never shuffled
    # train + validation are a permutation of the 60 training images
    x = arrays["train"][0].reshape(60, -1)
    mine = np.concatenate([a.train_x, a.val_x]).reshape(60, -1)
    assert sorted(map(bytes, mine)) == sorted(map(bytes, x))
    assert not np.array_equal(a.val_x, c.val_x)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"train_y": np.r_[np.arange(59) % 10, 10]}, "label 10 at index 59 out of range"),
        ({"test_y": -np.ones(20, dtype=np.int64)}, "label -1 at index 0 out of range"),
        ({"train_x": np.zeros((60, 28, 28, 3), np.uint8)}, "must be N x 32 x 32 x 3, got shape (60, 28, 28, 3)"),
        ({"train_x": np.zeros((60, 32, 32, 3), np.float32)}, "must be uint8, got dtype float32"),
        ({"test_y": np.arange(19) % 10}, "got 20 images but 19 labels"),
    ],
)  # fmt: skip
def test_bad_arrays(tmp_path, override, message):
    _fake_cifar(tmp_path, **override)
    with pytest.raises(DataError, match=f"^.*{message.replace('(', '.').replace(')', '.')}"):
        ds.cifar10(tmp_path, val_images=10)


def test_bad_files(tmp_path):
    with pytest.raises(DataError, match="no such dataset folder"):
        ds.cifar10(tmp_path / "absent")
    _fake_cifar(tmp_path)
    (tmp_path / "cifar10_test.npz").unlink()
    with pytest.raises(DataError, match=r"but not cifar10_test\.npz"):
        ds.cifar10(tmp_path)
    (tmp_path / "cifar10_test.npz").write_bytes(b"PK\x03\x04 definitely not a zip")
    with pytest.raises(DataError, match=r"cannot read .*cifar10_test\.npz"):
        ds.cifar10(tmp_path)
    np.savez(tmp_path / "cifar10_test.npz", images=np.zeros(3))
    with pytest.raises(DataError, match="missing array 'x'"):
        ds.cifar10(tmp_path)
    with pytest.raises(DataError, match="no CIFAR-10 in"):  # a folder without either layout
        ds.cifar10(tmp_path / "..", download=False)
    with pytest.raises(DataError, match="'digits' or 'cifar10:DIR', got 'mnist'"):
        ds.load_data("mnist")


def test_augmentation_shifts_at_most_3px_and_flips():
    image = torch.zeros(3, 32, 32, dtype=torch.uint8)
    image[:, 10, 20] = 255
    aug = ds.augmentation()
    torch.manual_seed(0)
    cols, rows, moved = set(), set(), 0
    for _ in range(200):
        out = aug(image)
        assert out.dtype == torch.uint8 and out.shape == (3, 32, 32)
        r, c = (out[0] == 255).nonzero()[0].tolist()
        rows.add(r - 10)
        cols.add(c)
        moved += (r, c) != (10, 20)
    assert rows == set(range(-3, 4))  # every vertical shift of 0..3 px, both ways
    # Column 20 shifted by dx is 20 + dx, or 31 - (20 + dx) once flipped.
    assert cols == set(range(17, 24)) | set(range(8, 15))
    assert moved > 120


def test_real_cifar10_split():
    folder = shared_path("cifar10")
    d = ds.cifar10(folder, split_seed=0)
    assert d.sizes() == {"train": 45_000, "val": 5_000, "test": 10_000}
    assert np.bincount(d.test_y).tolist() == [1000] * 10
    assert (np.bincount(d.train_y) + np.bincount(d.val_y)).tolist() == [5000] * 10
    # The well-known channel means of the 50,000 training images (../shared/data/README.md).
    # (d.mean is of the 45,000-image train split only, hence the tolerance)
    assert np.allclose(d.mean, [0.4914, 0.4822, 0.4465], atol=2e-3)
    assert np.allclose(d.std, [0.2470, 0.2435, 0.2616], atol=2e-3)
