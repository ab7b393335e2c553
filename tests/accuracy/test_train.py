"""Training: the recipe's checks, determinism for a seed, learning, and measurements."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lens_fast.accuracy.data import load_data
from lens_fast.accuracy.train import Progress, Recipe, train_architecture
from lens_fast.errors import DataError, LensError
from lens_fast.space.vgg import smallest

TINY = Recipe(epochs=1, train_images=96, val_images=50, test_images=100, seed=3)


@pytest.fixture(scope="module")
def digits():
    return load_data("digits")


def test_recipe_defaults_are_the_papers():
    r = Recipe()
    assert (r.epochs, r.batch_size, r.lr, r.momentum, r.augment) == (10, 32, 0.01, 0.9, True)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [("epochs", 0, "epochs must be >= 1, got 0"), ("lr", -1.0, "learning rate must be > 0"),
     ("momentum", 1.0, r"momentum must be in \[0, 1\), got 1.0"),
     ("train_images", 0, "number of train images must be >= 1, got 0")],
)  # fmt: skip
def test_recipe_rejects_bad_values(field, value, message):
    with pytest.raises(LensError, match=message):
        Recipe(**{field: value})


def test_too_many_images(digits):
    with pytest.raises(
        DataError, match=r"train images must be <= 1200 \(the train split\), got 5000"
    ):
        train_architecture(smallest(), digits, Recipe(train_images=5000), device="cpu")


class _Count(Progress):
    def __init__(self):
        self.steps, self.epochs = 0, []

    def step(self, batches=1):
        self.steps += batches

    def epoch_end(self, epoch, val_error):
        self.epochs.append((epoch, val_error))


def test_same_seed_same_numbers_and_threads_restored(digits):
    torch.set_num_threads(2)
    count = _Count()
    a = train_architecture(smallest(), digits, TINY.replace(epochs=2), device="cpu", threads=1,
                           progress=count)  # fmt: skip
    b = train_architecture(smallest(), digits, TINY.replace(epochs=2), device="cpu", threads=1)
    c = train_architecture(smallest(), digits, TINY.replace(epochs=2, seed=4), device="cpu",
                           threads=1)  # fmt: skip
    assert torch.get_num_threads() == 2
    assert a.test_error == b.test_error and a.val_error == b.val_error
    assert a.train_loss == b.train_loss  # bit-identical floats
    assert a.train_loss != c.train_loss
    assert count.steps == 2 * 3  # 96 images / batch 32, two epochs
    assert [e for e, _ in count.epochs] == [1, 2] and [v for _, v in count.epochs] == a.val_error
    assert (a.train_images, a.val_images, a.test_images) == (96, 50, 100)
    # errors are multiples of 1/N of the images they were measured on
    assert a.test_error * 100 == pytest.approx(round(a.test_error * 100))
    assert a.images_per_second == pytest.approx(2 * 96 / a.train_seconds)
    assert a.seconds > a.train_seconds > 0 and a.parameters == 30_714 and not a.diverged


def test_one_epoch_on_digits_learns(digits):
    # 1,200 digits, one epoch of the paper's recipe: far below the 0.9 of chance.
    r = train_architecture(smallest(), digits, Recipe(epochs=1, seed=0), device="cpu")
    assert r.test_error < 0.5 and r.val_error[0] < 0.5
    assert r.train_loss[0] < np.log(10)  # below the loss of a uniform guess
