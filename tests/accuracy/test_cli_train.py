"""`lens-fast train` through click's runner: stdout, stderr, exit codes, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from lens_fast.cli.main import cli
from lens_fast.space.io import write_architectures
from lens_fast.space.vgg import native_to_paper, smallest

TINY = ["--epochs", "1", "--subset", "64", "--val-images", "32", "--test-images", "64"]


@pytest.fixture
def runner():
    return CliRunner()


def run(runner, *args):
    return runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def arch_file(tmp_path):
    batch = np.stack([smallest(), smallest()])
    batch[1, 0] = 36
    path = tmp_path / "archs.csv"
    write_architectures(path, native_to_paper(batch), "paper")
    return path


def test_json_output_from_a_paper_file(runner, arch_file):
    res = run(runner, "train", "--arch-file", arch_file, "--encoding", "paper", "--row", 1,
              *TINY, "--format", "json", "--seed", 5)  # fmt: skip
    assert res.exit_code == 0, res.stderr
    out = json.loads(res.stdout)
    assert {"test_error", "val_error", "seconds", "images_per_second"} <= set(out)
    assert out["architecture"]["f1"] == 36 and out["architecture"]["pool5"] == 1
    assert len(out["val_error"]) == 1 and 0 <= out["test_error"] <= 1
    assert out["test_error"] * 64 == pytest.approx(round(out["test_error"] * 64))
    assert out["recipe"]["seed"] == 5 and out["recipe"]["train_images"] == 64
    assert (
        out["data"]["name"] == "digits"
        and out["parameters"] == 30_714 + 12 * 9 * 3 + 12 * 3 + 12 * 9 * 24
    )
    assert "train: digits (64 training images)" in res.stderr
    assert "epoch 1/1" not in res.stderr  # no progress bar when stderr is not a terminal


def test_table_output_random_arch(runner):
    res = run(runner, "train", "--random-arch", "--seed", 2, *TINY, "--subset", 32)
    assert res.exit_code == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split()[:3] == ["test_error", "test_accuracy", "images_per_second"]
    assert lines[3].split() == ["epoch", "val_error", "train_loss"] and lines[4].split()[0] == "1"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing", "no such dataset folder"),
        (lambda d: _npz(d, x=np.zeros((4, 28, 28, 3), np.uint8)), "must be N x 32 x 32 x 3, got shape (4, 28, 28, 3)"),
        (lambda d: _npz(d, y=np.array([0, 1, 2, 10])), "label 10 at index 3 out of range, expected 0..9"),
        (lambda d: _npz(d, corrupt=True), "cannot read"),
    ],
)  # fmt: skip
def test_bad_data_exits_1_with_one_line(runner, tmp_path, make, message):
    folder = make(tmp_path)
    res = run(runner, "train", "--random-arch", "--data", f"cifar10:{folder}", *TINY)
    assert res.exit_code == 1
    assert res.stdout == ""
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("error: ")
    assert message in res.stderr


def _npz(folder, x=None, y=None, corrupt=False):
    x = np.zeros((4, 32, 32, 3), np.uint8) if x is None else x
    y = np.arange(4) if y is None else y
    for split in ("train", "test"):
        np.savez(folder / f"cifar10_{split}.npz", x=x, y=y)
    if corrupt:
        (folder / "cifar10_train.npz").write_bytes(b"\x93NUMPY garbage")
    return folder


def test_bad_options(runner, arch_file):
    res = run(runner, "train", "--arch-file", arch_file, "--encoding", "paper", "--row", 2, *TINY)
    assert res.exit_code == 1 and "--row must be in 0..1" in res.stderr and "got 2" in res.stderr
    res = run(runner, "train", "--arch-file", arch_file, "--random-arch")
    assert res.exit_code == 2 and "exactly one of --arch-file FILE or --random-arch" in res.stderr
    res = run(runner, "train", "--random-arch", "--subset", 5000, "--epochs", 1)
    assert res.exit_code == 1 and "train images must be <= 1200" in res.stderr
    res = run(runner, "train", "--random-arch", "--epochs", 0)
    assert res.exit_code == 1 and res.stderr == "error: epochs must be >= 1, got 0\n"
