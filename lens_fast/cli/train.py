"""`lens-fast train`: train one architecture with the paper's recipe and report its error."""

from __future__ import annotations

import sys
import time
from typing import Any

import click

from lens_fast.cli.common import emit, info, render, stderr_is_tty
from lens_fast.errors import LensError

SUMMARY_COLUMNS = ("test_error", "test_accuracy", "images_per_second", "train_seconds", "seconds",
                   "parameters", "device", "threads")  # fmt: skip
CURVE_COLUMNS = ("epoch", "val_error", "train_loss")


def _architecture(arch_file, encoding, row, random_arch, seed):
    """The native row named by the options."""
    from lens_fast.space.io import read_architectures
    from lens_fast.space.vgg import sample

    if (arch_file is None) == (not random_arch):
        raise click.UsageError("give exactly one of --arch-file FILE or --random-arch")
    if random_arch:
        if row is not None:
            raise click.UsageError("--row goes with --arch-file, not --random-arch")
        return sample(1, seed)[0]
    batch = read_architectures(arch_file, encoding)
    index = 0 if row is None else row
    if not 0 <= index < len(batch):
        raise LensError(f"--row must be in 0..{len(batch) - 1} ({arch_file} has {len(batch)} "
                        f"architectures), got {index}")  # fmt: skip
    return batch[index]


class _EpochBars:
    """A click progress bar per epoch, on stderr (only when it is a terminal)."""

    def __init__(self) -> None:
        self.bar: Any = None

    def epoch_start(self, epoch: int, epochs: int, batches: int) -> None:
        bar: Any = click.progressbar(length=batches, label=f"epoch {epoch}/{epochs}",
                                     file=sys.stderr)  # fmt: skip
        bar.__enter__()
        self.bar = bar

    def step(self, batches: int = 1) -> None:
        if self.bar is not None:
            self.bar.update(batches)

    def epoch_end(self, epoch: int, val_error: float) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
        info(f"epoch {epoch}: validation error {val_error:.4f}")


@click.command()
@click.option(
    "--arch-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="CSV or JSON of architectures (columns of the encoding).",
)
@click.option(
    "--encoding",
    type=click.Choice(["native", "paper"]),
    default="native",
    show_default=True,
    help="Encoding of --arch-file.",
)
@click.option("--row", type=int, default=None, help="0-based row of --arch-file [default: 0].")
@click.option("--random-arch", is_flag=True, help="Train an architecture sampled from the space.")
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of --random-arch and of the training (init, shuffling, augmentation).",
)
@click.option(
    "--data",
    default="digits",
    show_default=True,
    help="digits (offline, ships with scikit-learn) or cifar10:DIR (the .npz files "
    "cifar10_train.npz/cifar10_test.npz, or torchvision's layout, in DIR).",
)
@click.option("--download", is_flag=True, help="Let torchvision download CIFAR-10 into DIR.")
@click.option(
    "--split-seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the train/validation split.",
)
@click.option("--epochs", type=int, default=10, show_default=True)
@click.option(
    "--subset",
    type=int,
    default=None,
    help="Train on the first N images of the training split [default: all].",
)
@click.option("--val-images", type=int, default=None, help="Validate on N images [default: all].")
@click.option("--test-images", type=int, default=None, help="Test on N images [default: all].")
@click.option("--batch-size", type=int, default=32, show_default=True)
@click.option("--lr", type=float, default=0.01, show_default=True, help="SGD learning rate.")
@click.option("--momentum", type=float, default=0.9, show_default=True)
@click.option("--weight-decay", type=float, default=0.0, show_default=True)
@click.option("--no-augment", is_flag=True, help="No random shifts and flips.")
@click.option(
    "--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True
)
@click.option(
    "--threads",
    type=int,
    default=None,
    help="CPU threads of torch [default: every core this process may use].",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="Output format on stdout.",
)
def train(arch_file, encoding, row, random_arch, seed, data, download, split_seed, epochs, subset,
          val_images, test_images, batch_size, lr, momentum, weight_decay, no_augment, device,
          threads, fmt):  # fmt: skip
    """Train one architecture and print its test error, validation curve and speed."""
    from lens_fast.accuracy.data import load_data
    from lens_fast.accuracy.train import Recipe, resolve_device, train_architecture
    from lens_fast.space.vgg import NATIVE_COLUMNS

    native = _architecture(arch_file, encoding, row, random_arch, seed)
    if threads is not None and threads < 1:
        raise LensError(f"--threads must be >= 1, got {threads}")
    recipe = Recipe(epochs=epochs, batch_size=batch_size, lr=lr, momentum=momentum,
                    weight_decay=weight_decay, augment=not no_augment, train_images=subset,
                    val_images=val_images, test_images=test_images, seed=seed)  # fmt: skip
    dev = resolve_device(device)
    t0 = time.perf_counter()
    dataset = load_data(data, download, split_seed)
    data_seconds = time.perf_counter() - t0
    n_train = subset or len(dataset.train_y)
    info(f"train: {dataset.name} ({n_train} training images), {epochs} epoch(s), batch "
         f"{batch_size}, on {dev}")  # fmt: skip
    progress = _EpochBars() if stderr_is_tty() else None
    result = train_architecture(native, dataset, recipe, device=dev, threads=threads,
                                progress=progress)  # fmt: skip
    record = {
        "architecture": dict(zip(NATIVE_COLUMNS, (int(v) for v in native), strict=True)),
        "test_error": result.test_error,
        "test_accuracy": 1.0 - result.test_error,
        "val_error": result.val_error,
        "train_loss": result.train_loss,
        "images_per_second": result.images_per_second,
        "train_seconds": result.train_seconds,
        "seconds": result.seconds,
        "data_seconds": data_seconds,
        "parameters": result.parameters,
        "device": result.device,
        "threads": result.threads,
        "diverged": result.diverged,
        "data": dataset.describe(),
        "recipe": recipe.as_dict(),
    }
    if fmt == "json":
        emit(render([record], "json").removeprefix("[\n").removesuffix("\n]\n") + "\n")
        return
    curve = [{"epoch": i + 1, "val_error": v, "train_loss": loss}
             for i, (v, loss) in enumerate(zip(result.val_error, result.train_loss, strict=True))]  # fmt: skip
    emit(render([record], "table", SUMMARY_COLUMNS) + "\n" + render(curve, "table", CURVE_COLUMNS))
    if result.diverged:
        info("warning: the training loss became non-finite; training stopped early")
