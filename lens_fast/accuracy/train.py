"""Training one architecture: the paper's recipe, measured and reproducible.

The recipe (`Recipe`) defaults to the paper's: 10 epochs, batch 32, SGD with lr 0.01
and momentum 0.9, cross-entropy, random shifts and horizontal flips. `train_architecture`
returns the test error, the validation error after every epoch and the wall time.

On the CPU a run is deterministic for a seed and a thread count (model init,
shuffling and augmentation draw from seeded generators, data loading stays in the
process; other thread counts change the last bits of the losses). On CUDA the
model and inputs use channels_last and float16 autocast with a gradient scaler.
torch is imported inside the functions.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from dataclasses import dataclass, field

import numpy as np

from lens_fast.accuracy.data import ImageData, train_dataset
from lens_fast.errors import DataError, LensError
from lens_fast.space.vgg import Architecture, decode


@dataclass(frozen=True)
class Recipe:
    """How a candidate is trained and scored. Every field is part of the cache key.

    `train_images`, `val_images` and `test_images` take the first N images of the
    (seeded, shuffled) train split, of the validation split and of the test split;
    None uses all of them. `amp` (float16 autocast) only acts on CUDA.
    """

    epochs: int = 10
    batch_size: int = 32
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 0.0
    augment: bool = True
    train_images: int | None = None
    val_images: int | None = None
    test_images: int | None = None
    seed: int = 0
    amp: bool = True

    def __post_init__(self) -> None:
        checks = [
            ("epochs", self.epochs, self.epochs >= 1, ">= 1"),
            ("batch size", self.batch_size, self.batch_size >= 1, ">= 1"),
            ("learning rate", self.lr, self.lr > 0 and math.isfinite(self.lr), "> 0"),
            ("momentum", self.momentum, 0 <= self.momentum < 1, "in [0, 1)"),
            ("weight decay", self.weight_decay, self.weight_decay >= 0, ">= 0"),
        ]
        for what, value, ok, expected in checks:
            if not ok:
                raise LensError(f"{what} must be {expected}, got {value}")
        for split, count in (("train", self.train_images), ("validation", self.val_images),
                             ("test", self.test_images)):  # fmt: skip
            if count is not None and count < 1:
                raise LensError(f"number of {split} images must be >= 1, got {count}")

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)

    def replace(self, **changes) -> Recipe:
        return dataclasses.replace(self, **changes)


@dataclass
class TrainResult:
    """What one training run measured. Errors are fractions in [0, 1]; times in seconds."""

    test_error: float
    val_error: list[float]
    train_loss: list[float]
    seconds: float
    train_seconds: float
    images_per_second: float
    train_images: int
    val_images: int
    test_images: int
    parameters: int
    device: str
    threads: int
    diverged: bool = False
    extra: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class Progress:
    """Callbacks of a training run (no-ops); the CLI draws a bar per epoch with them."""

    def epoch_start(self, epoch: int, epochs: int, batches: int) -> None:
        """Epoch `epoch` (1-based) of `epochs` starts; it has `batches` steps."""

    def step(self, batches: int = 1) -> None:
        """`batches` more optimiser steps are done."""

    def epoch_end(self, epoch: int, val_error: float) -> None:
        """Epoch `epoch` ended with this validation error."""


# ------------------------------------------------------------------------- devices


def available_cpus() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_threads(workers: int = 1) -> int:
    """torch threads per training process when `workers` train at once on this machine.

    Cores // workers, or LENS_FAST_THREADS when set. It never depends on the machine's
    load, because results are bit-identical only for a fixed thread count (the
    reduction order of the convolutions depends on it). On a machine that other jobs
    keep busy, fewer threads are much faster (see bench/README.md): set the variable.
    """
    value = os.environ.get("LENS_FAST_THREADS")
    if value and value.isdigit() and int(value) >= 1:
        return int(value)
    return max(1, available_cpus() // max(1, workers))


def resolve_device(device: str = "auto") -> str:
    """'auto' -> 'cuda' when a GPU is present else 'cpu'; 'cuda[:i]' checked to exist."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        return device
    if device == "cuda" or device.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise LensError(f"device {device!r} requested, but torch sees no CUDA device")
        index = device.partition(":")[2]
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise LensError(
                f"device must be cuda:0..cuda:{torch.cuda.device_count() - 1}, got {device!r}"
            )
        return device
    raise LensError(f"device must be auto, cpu or cuda, got {device!r}")


# ------------------------------------------------------------------------ training


def _take(n: int | None, available: int, what: str) -> int:
    if n is None:
        return available
    if n > available:
        raise DataError(f"{what} images must be <= {available} (the {what} split), got {n}")
    return n


def train_architecture(arch: Architecture | np.ndarray, data: ImageData, recipe: Recipe,
                       device: str = "auto", threads: int | None = None,
                       progress: Progress | None = None) -> TrainResult:  # fmt: skip
    """Train `arch` (an `Architecture` or a native row) on `data` with `recipe`.

    `threads` sets torch's CPU threads for the run (default: every core this process
    may use); the previous setting is restored afterwards.
    """
    import torch

    arch = arch if isinstance(arch, Architecture) else decode(np.asarray(arch))
    n_train = _take(recipe.train_images, len(data.train_y), "train")
    n_val = _take(recipe.val_images, len(data.val_y), "validation")
    n_test = _take(recipe.test_images, len(data.test_y), "test")
    dev = resolve_device(device)
    threads = threads or default_threads()
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _train(arch, data, recipe, dev, threads, n_train, n_val, n_test,
                      progress or Progress())  # fmt: skip
    finally:
        torch.set_num_threads(previous_threads)


def _train(arch, data, recipe, dev, threads, n_train, n_val, n_test, progress) -> TrainResult:
    import multiprocessing

    import torch
    from torch.utils.data import DataLoader

    from lens_fast.accuracy.models import build_model, parameter_count

    start = time.perf_counter()
    cuda = dev.startswith("cuda")
    torch.manual_seed(recipe.seed)
    model = build_model(arch, input_side=32, in_channels=3, num_classes=10)
    parameters = parameter_count(model)
    memory_format = torch.channels_last if cuda else torch.contiguous_format
    model = model.to(dev).to(memory_format=memory_format)
    optimiser = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=recipe.momentum,
                                weight_decay=recipe.weight_decay)  # fmt: skip
    use_amp = cuda and recipe.amp
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    loss_fn = torch.nn.CrossEntropyLoss()
    mean = torch.tensor(data.mean, device=dev).view(1, 3, 1, 1)
    std = torch.tensor(data.std, device=dev).view(1, 3, 1, 1)

    dataset = train_dataset(data.train_x[:n_train], data.train_y[:n_train], recipe.augment)
    loader_workers = 0
    if cuda and not multiprocessing.current_process().daemon:
        loader_workers = min(4, available_cpus())
    loader = DataLoader(dataset, batch_size=recipe.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(recipe.seed),
                        num_workers=loader_workers, pin_memory=cuda,
                        persistent_workers=loader_workers > 0)  # fmt: skip

    val_error: list[float] = []
    train_loss: list[float] = []
    train_seconds = 0.0
    diverged = False
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        progress.epoch_start(epoch, recipe.epochs, len(loader))
        t0 = time.perf_counter()
        loss_sum = torch.zeros((), device=dev)
        for xb, yb in loader:
            xb = _normalise(xb.to(dev, non_blocking=True), mean, std, memory_format)
            yb = yb.to(dev, non_blocking=True)
            optimiser.zero_grad(set_to_none=True)
            with torch.autocast("cuda", dtype=torch.float16, enabled=use_amp):
                loss = loss_fn(model(xb), yb)
            scaler.scale(loss).backward()
            scaler.step(optimiser)
            scaler.update()
            loss_sum += loss.detach().float() * len(yb)
            progress.step()
        mean_loss = float(loss_sum) / n_train
        if cuda:
            torch.cuda.synchronize(dev)
        train_seconds += time.perf_counter() - t0
        train_loss.append(mean_loss)
        err = error_rate(model, data.val_x[:n_val], data.val_y[:n_val], mean, std, dev, use_amp)
        val_error.append(err)
        progress.epoch_end(epoch, err)
        if not math.isfinite(mean_loss):
            diverged = True
            break
    test_error = error_rate(model, data.test_x[:n_test], data.test_y[:n_test], mean, std, dev,
                            use_amp)  # fmt: skip
    seconds = time.perf_counter() - start
    images = n_train * len(train_loss)
    return TrainResult(
        test_error=test_error, val_error=val_error, train_loss=train_loss, seconds=seconds,
        train_seconds=train_seconds, images_per_second=images / max(train_seconds, 1e-9),
        train_images=n_train, val_images=n_val, test_images=n_test, parameters=parameters,
        device=dev, threads=threads, diverged=diverged,
    )  # fmt: skip


def _normalise(xb, mean, std, memory_format):
    x = (xb.float().div_(255.0) - mean) / std
    return x.contiguous(memory_format=memory_format)


def error_rate(model, x: np.ndarray, y: np.ndarray, mean, std, device: str,
               amp: bool = False, batch_size: int = 500) -> float:  # fmt: skip
    """Fraction of `x` (uint8 `N x 32 x 32 x 3`) that `model` misclassifies (eval mode)."""
    import torch

    from lens_fast.accuracy.data import channels_first

    cuda = device.startswith("cuda")
    memory_format = torch.channels_last if cuda else torch.contiguous_format
    model.eval()
    wrong = 0
    with torch.no_grad(), torch.autocast("cuda", dtype=torch.float16, enabled=amp and cuda):
        for lo in range(0, len(y), batch_size):
            xb = channels_first(x[lo : lo + batch_size]).to(device)
            logits = model(_normalise(xb, mean, std, memory_format))
            pred = logits.argmax(dim=1).cpu().numpy()
            wrong += int((pred != y[lo : lo + batch_size]).sum())
    return wrong / len(y)
