"""torch models of the VGG space.

Each conv is stride 1 with 'same' padding, followed by ReLU then BatchNorm (the
order of the authors' code); a 2x2 max-pool ends a block when the encoding has one;
then flatten, FC1/FC2 with ReLU, and the classifier (softmax folded into the loss).
torch is imported here only; import this module inside functions that need it.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from lens_fast.space.vgg import Architecture


def build_model(
    arch: Architecture, input_side: int = 32, in_channels: int = 3, num_classes: int = 10
) -> nn.Sequential:
    """An `nn.Sequential` for `arch` at an `input_side` x `input_side` x `in_channels` input.

    Layer names follow the split names of the native semantics: ``conv{b}_{j}``,
    ``relu{b}_{j}``, ``bn{b}_{j}``, ``pool{b}``, ``flatten``, ``fc1``, ``relu_fc1``,
    ``fc2``, ``relu_fc2``, ``classifier``.
    """
    layers: dict[str, nn.Module] = {}
    channels, side = in_channels, input_side
    for b, block in enumerate(arch.blocks, start=1):
        for j in range(1, block.layers + 1):
            layers[f"conv{b}_{j}"] = nn.Conv2d(
                channels, block.filters, block.kernel, padding=block.kernel // 2
            )
            layers[f"relu{b}_{j}"] = nn.ReLU(inplace=True)
            layers[f"bn{b}_{j}"] = nn.BatchNorm2d(block.filters)
            channels = block.filters
        if block.pool:
            layers[f"pool{b}"] = nn.MaxPool2d(2)
            side //= 2
    layers["flatten"] = nn.Flatten()
    features = channels * side * side
    for name, width in (("fc1", arch.fc1), ("fc2", arch.fc2)):
        if width:
            layers[name] = nn.Linear(features, width)
            layers[f"relu_{name}"] = nn.ReLU(inplace=True)
            features = width
    layers["classifier"] = nn.Linear(features, num_classes)
    return _sequential(layers)


def _sequential(layers: dict[str, nn.Module]) -> nn.Sequential:
    from collections import OrderedDict

    return nn.Sequential(OrderedDict(layers))


def parameter_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def output_shape(model: nn.Module, input_side: int = 32, in_channels: int = 3) -> tuple[int, ...]:
    """Shape of the model's output for one input (no gradient)."""
    model.eval()
    with torch.no_grad():
        return tuple(model(torch.zeros(1, in_channels, input_side, input_side)).shape)


class LayerSpec(NamedTuple):
    """One weighted or pooling layer: `kind` in conv, pool, fc; sizes in channels/units.

    conv: `(name, "conv", in_channels, out_channels, kernel)`; pool: `(name, "pool", c,
    c, 2)`; fc and classifier: `(name, "fc", in_features, out_features, 0)`.
    """

    name: str
    kind: str
    n_in: int
    n_out: int
    kernel: int


def layer_specs(model: nn.Sequential) -> list[LayerSpec]:
    """The conv, pool and FC layers of a built model, in order (ReLU, BN, flatten skipped)."""
    specs: list[LayerSpec] = []
    channels = 0
    for name, module in model.named_children():
        if isinstance(module, nn.Conv2d):
            kernel = int(module.kernel_size[0])
            specs.append(LayerSpec(name, "conv", module.in_channels, module.out_channels, kernel))
            channels = module.out_channels
        elif isinstance(module, nn.MaxPool2d):
            specs.append(LayerSpec(name, "pool", channels, channels, 2))
        elif isinstance(module, nn.Linear):
            specs.append(LayerSpec(name, "fc", module.in_features, module.out_features, 0))
    return specs


def expected_specs(
    arch: Architecture, input_side: int = 32, in_channels: int = 3, num_classes: int = 10
) -> list[LayerSpec]:
    """The layer list an `Architecture` calls for, read from the decoded blocks only."""
    specs: list[LayerSpec] = []
    channels, side = in_channels, input_side
    for b, block in enumerate(arch.blocks, start=1):
        for j in range(1, block.layers + 1):
            specs.append(LayerSpec(f"conv{b}_{j}", "conv", channels, block.filters, block.kernel))
            channels = block.filters
        if block.pool:
            specs.append(LayerSpec(f"pool{b}", "pool", channels, channels, 2))
            side //= 2
    features = channels * side * side
    for name, width in (("fc1", arch.fc1), ("fc2", arch.fc2)):
        if width:
            specs.append(LayerSpec(name, "fc", features, width, 0))
            features = width
    specs.append(LayerSpec("classifier", "fc", features, num_classes, 0))
    return specs


def multiply_accumulates(
    arch: Architecture, input_side: int = 32, in_channels: int = 3, num_classes: int = 10
) -> int:
    """Multiply-accumulates of one forward pass (convs and FCs; BN, ReLU, pools excluded)."""
    macs = 0
    side = input_side
    for spec in expected_specs(arch, input_side, in_channels, num_classes):
        if spec.kind == "conv":
            macs += side * side * spec.n_in * spec.n_out * spec.kernel * spec.kernel
        elif spec.kind == "pool":
            side //= 2
        else:
            macs += spec.n_in * spec.n_out
    return macs
