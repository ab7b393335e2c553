"""Image datasets of the error objective: CIFAR-10 (.npz or torchvision) and digits.

Every dataset is held as uint8 `N x 32 x 32 x 3` (HWC, RGB) arrays with int64 labels
in 0..9, split into train / validation / test (`ImageData`). Sources:

* ``cifar10:DIR``: ``DIR/cifar10_train.npz`` and ``DIR/cifar10_test.npz`` when present
  (keys ``x``, ``y``; the layout of ../shared/data/cifar10), else torchvision's
  ``CIFAR10(root=DIR)`` (``download=True`` fetches it for users who are online). The
  50,000 training images are split 45,000 train / 5,000 validation by a seeded
  permutation (the paper's protocol); the 10,000 test images are the test split.
* ``digits``: scikit-learn's 8x8 digits (1,797 images, shipped inside the package),
  scaled to 0..255, upsampled 4x (nearest) to 32x32 and repeated over 3 channels;
  a fixed split of 1,200 train / 200 validation / 397 test. For demos and tests
  on machines without CIFAR-10.

torch and torchvision are imported inside the functions that need them.
"""

from __future__ import annotations

import hashlib
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from lens_fast.errors import DataError

IMAGE_SHAPE: tuple[int, int, int] = (32, 32, 3)
NUM_CLASSES = 10
CIFAR10_VAL_IMAGES = 5_000
DIGITS_SPLIT: tuple[int, int, int] = (1_200, 200, 397)  # train, validation, test
DIGITS_SPLIT_SEED = 20_210_705  # fixed: the digits split never changes
NPZ_NAMES: tuple[str, str] = ("cifar10_train.npz", "cifar10_test.npz")
CIFAR10_CLASSES: tuple[str, ...] = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)  # fmt: skip


@dataclass(frozen=True, eq=False)
class ImageData:
    """A dataset split three ways; every `x` is uint8 `N x 32 x 32 x 3`, every `y` int64 `N`.

    `fingerprint` is a sha256 of the content of the three splits (images and labels),
    so two loads of the same data, wherever they lie, have the same fingerprint.
    `mean` and `std` are the per-channel statistics of `train_x` on [0, 1].
    """

    name: str
    source: str
    train_x: np.ndarray
    train_y: np.ndarray
    val_x: np.ndarray
    val_y: np.ndarray
    test_x: np.ndarray
    test_y: np.ndarray
    classes: tuple[str, ...]
    fingerprint: str
    mean: tuple[float, float, float]
    std: tuple[float, float, float]

    def sizes(self) -> dict[str, int]:
        return {"train": len(self.train_y), "val": len(self.val_y), "test": len(self.test_y)}

    def describe(self) -> dict:
        return {"name": self.name, "fingerprint": self.fingerprint, **self.sizes()}


# ----------------------------------------------------------------------- validation


def check_images(x: Any, y: Any, where: str) -> tuple[np.ndarray, np.ndarray]:
    """Validate images and labels; return C-contiguous uint8 `N x 32 x 32 x 3`, int64 `N`.

    Raises `DataError` naming `where` for a wrong shape or dtype, labels out of 0..9,
    or a count mismatch.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if x.dtype != np.uint8:
        raise DataError(f"{where}: images must be uint8, got dtype {x.dtype}")
    if x.ndim != 4 or x.shape[1:] != IMAGE_SHAPE:
        raise DataError(f"{where}: images must be N x 32 x 32 x 3, got shape {tuple(x.shape)}")
    if x.shape[0] == 0:
        raise DataError(f"{where}: expected at least one image, got 0")
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise DataError(
            f"{where}: labels must be a 1-D integer array, got {y.dtype} {tuple(y.shape)}"
        )
    if y.shape[0] != x.shape[0]:
        raise DataError(f"{where}: got {x.shape[0]} images but {y.shape[0]} labels")
    lo, hi = int(y.min()), int(y.max())
    if lo < 0 or hi >= NUM_CLASSES:
        bad = int(np.flatnonzero((y < 0) | (y >= NUM_CLASSES))[0])
        raise DataError(f"{where}: label {int(y[bad])} at index {bad} out of range, expected 0..9")
    return np.ascontiguousarray(x), y.astype(np.int64)


def read_npz(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Images `x` and labels `y` of an .npz file, validated (see `check_images`)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"no such dataset file: {path}")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in ("x", "y") if k not in npz.files]
            if missing:
                raise DataError(f"{path}: missing array {missing[0]!r}, expected keys x and y")
            x, y = npz["x"], npz["y"]
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error, KeyError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DataError(
            f"cannot read {path} as an .npz of images x and labels y: {reason}"
        ) from None
    return check_images(x, y, str(path))


# ---------------------------------------------------------------------------- split


def _fingerprint(name: str, arrays: list[np.ndarray]) -> str:
    h = hashlib.sha256(name.encode())
    for a in arrays:
        h.update(str(a.shape).encode())
        h.update(np.ascontiguousarray(a).data)
    return h.hexdigest()


def _channel_stats(x: np.ndarray) -> tuple[tuple[float, float, float], tuple[float, float, float]]:
    flat = x.reshape(-1, 3)
    values = np.arange(256, dtype=np.float64) / 255.0
    mean, std = [], []
    for c in range(3):
        counts = np.bincount(flat[:, c], minlength=256).astype(np.float64)
        m = float(counts @ values / counts.sum())
        v = float(counts @ (values - m) ** 2 / counts.sum())
        mean.append(m)
        std.append(v**0.5 if v > 0 else 1.0)
    return (mean[0], mean[1], mean[2]), (std[0], std[1], std[2])


def make_splits(name: str, source: str, x: np.ndarray, y: np.ndarray, test_x: np.ndarray,
                test_y: np.ndarray, val_images: int, seed: int,
                classes: tuple[str, ...] = ()) -> ImageData:  # fmt: skip
    """Split `x, y` into train and `val_images` validation images by a seeded permutation."""
    if not 0 < val_images < len(y):
        raise DataError(f"validation images must be in 1..{len(y) - 1}, got {val_images}")
    perm = np.random.default_rng(seed).permutation(len(y))
    val, train = perm[:val_images], perm[val_images:]
    train_x, train_y = x[train], y[train]
    val_x, val_y = x[val], y[val]
    arrays = [train_x, train_y, val_x, val_y, test_x, test_y]
    mean, std = _channel_stats(train_x)
    return ImageData(name=name, source=source, train_x=train_x, train_y=train_y, val_x=val_x,
                     val_y=val_y, test_x=test_x, test_y=test_y,
                     classes=classes or tuple(str(i) for i in range(NUM_CLASSES)),
                     fingerprint=_fingerprint(name, arrays), mean=mean, std=std)  # fmt: skip


# ------------------------------------------------------------------------- datasets


def cifar10(root: str | Path, download: bool = False, split_seed: int = 0,
            val_images: int = CIFAR10_VAL_IMAGES) -> ImageData:  # fmt: skip
    """CIFAR-10 from `root`: the two .npz files when present, else torchvision's layout."""
    root = Path(root).expanduser()
    npz = [root / n for n in NPZ_NAMES]
    present = [p.is_file() for p in npz]
    if all(present):
        x, y = read_npz(npz[0])
        tx, ty = read_npz(npz[1])
        source = f"{npz[0]} + {npz[1].name}"
    elif any(present):
        have, lack = (npz[0], npz[1]) if present[0] else (npz[1], npz[0])
        raise DataError(f"found {have} but not {lack.name}, expected both CIFAR-10 .npz files")
    else:
        if not root.exists() and not download:
            raise DataError(
                f"no such dataset folder: {root} (expected {NPZ_NAMES[0]} and {NPZ_NAMES[1]} "
                "or torchvision's cifar-10-batches-py there)"
            )
        x, y, tx, ty = _torchvision_cifar10(root, download)
        source = f"torchvision CIFAR10(root={root})"
    return make_splits("cifar10", source, x, y, tx, ty, val_images, split_seed, CIFAR10_CLASSES)


def _torchvision_cifar10(root: Path, download: bool):
    from torchvision.datasets import CIFAR10

    sets: list[np.ndarray] = []
    for train in (True, False):
        try:
            ds = CIFAR10(root=str(root), train=train, download=download)
        except RuntimeError as exc:
            hint = "" if download else " (pass --download to fetch it)"
            raise DataError(
                f"no CIFAR-10 in {root}: expected {NPZ_NAMES[0]} and {NPZ_NAMES[1]}, or "
                f"torchvision's cifar-10-batches-py{hint}; {str(exc).splitlines()[0]}"
            ) from None
        except (OSError, ValueError, EOFError) as exc:
            # Includes unpickling errors of damaged batches and network failures.
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise DataError(f"cannot read torchvision CIFAR-10 in {root}: {reason}") from None
        where = f"{root} ({'train' if train else 'test'} batches)"
        sets.extend(check_images(ds.data, np.asarray(ds.targets), where))
    return sets[0], sets[1], sets[2], sets[3]


def digits() -> ImageData:
    """scikit-learn's digits upsampled to 32x32x3, with the fixed 1,200/200/397 split."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    small = np.rint(bunch.images * (255.0 / 16.0)).astype(np.uint8)  # n x 8 x 8 in 0..255
    big = small.repeat(4, axis=1).repeat(4, axis=2)  # nearest 4x upsampling -> n x 32 x 32
    x = np.ascontiguousarray(np.repeat(big[..., None], 3, axis=3))
    y = bunch.target.astype(np.int64)
    n_train, n_val, n_test = DIGITS_SPLIT
    perm = np.random.default_rng(DIGITS_SPLIT_SEED).permutation(len(y))
    test = perm[n_train + n_val : n_train + n_val + n_test]
    rest = perm[: n_train + n_val]
    return make_splits("digits", "scikit-learn load_digits (8x8 upsampled to 32x32x3)", x[rest],
                       y[rest], x[test], y[test], n_val, DIGITS_SPLIT_SEED)  # fmt: skip


# ----------------------------------------------------------------------- data specs

_LOADED: dict[tuple[str, bool, int], ImageData] = {}


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``digits`` -> ("digits", None); ``cifar10:DIR`` -> ("cifar10", DIR)."""
    name, sep, path = str(spec).partition(":")
    if name == "digits" and not sep:
        return "digits", None
    if name == "cifar10" and sep and path:
        return "cifar10", path
    raise DataError(f"--data must be 'digits' or 'cifar10:DIR', got {spec!r}")


def load_data(spec: str, download: bool = False, split_seed: int = 0) -> ImageData:
    """The dataset named by a spec (``digits`` or ``cifar10:DIR``), loaded once per process."""
    _name, path = parse_spec(spec)
    key = (str(spec), bool(download), int(split_seed))
    if key not in _LOADED:
        _LOADED[key] = digits() if path is None else cifar10(path, download, split_seed)
    return _LOADED[key]


# -------------------------------------------------------------------- torch helpers


def channels_first(x: np.ndarray):
    """uint8 `N x 32 x 32 x 3` -> uint8 torch tensor `N x 3 x 32 x 32` (contiguous)."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))


def augmentation():
    """The paper's augmentation with torchvision transforms, on uint8 `3 x 32 x 32` tensors.

    Random shifts of up to 3 px (10% of 32) in each direction, filled with the nearest
    edge pixel as Keras' ``width/height_shift_range=0.1`` does, then horizontal flips.
    """
    from torchvision.transforms import v2

    return v2.Compose(
        [v2.RandomCrop(32, padding=3, padding_mode="edge"), v2.RandomHorizontalFlip()]
    )


def train_dataset(x: np.ndarray, y: np.ndarray, augment: bool):
    """A torch `Dataset` of uint8 `3 x 32 x 32` images (augmented if asked) and labels."""
    import torch
    from torch.utils.data import Dataset, TensorDataset

    images = channels_first(x)
    labels = torch.from_numpy(y)
    if not augment:
        return TensorDataset(images, labels)
    transform = augmentation()

    class _Augmented(Dataset):
        def __len__(self) -> int:
            return len(labels)

        def __getitem__(self, i: int):
            return transform(images[i]), labels[i]

    return _Augmented()
