"""Layer shapes to profile: the VGG space's, and a random campaign over wider ranges.

A profile row is keyed by the predictor features of DESIGN.md (``op, in_features,
out_features, k2f``), but a layer that torch can run needs a full shape: several
shapes give one key (a 3x3 conv of 224x224x24 and of 112x112x96 both have
``in_features = 1,204,224``). A `LayerShape` is that full shape; the profiler
measures shapes, writes one row per shape, and the table averages the rows of a key.

* `space_shapes`: every shape that the structural tables of the layer universe
  (`lens_fast.space.catalog.universe`) hold: conv over (resolution, input channels,
  kernel, filters), batchnorm/relu/pool over (resolution, filters), the relu after
  each FC size, and every FC (input, output) pair, so a profile covers every config
  any architecture of the space can ask for.
* `random_shapes`: a seeded log-uniform campaign (sides 1..224, channels 3..512,
  kernels 1/3/5/7, FC sizes 16..65,536 -> 10..16,384), capped in work so one layer
  stays well under a second on a laptop CPU; the same seed gives the same shapes,
  which is what lets a rerun skip them.

torch is imported inside `build` only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lens_fast.space.catalog import (
    CHANNEL_CHOICES,
    FC_OUT_CHOICES,
    NUM_CONV_RES,
    side_px,
)
from lens_fast.space.vgg import F_CHOICES, FC_CHOICES, K_CHOICES

OPS: tuple[str, ...] = ("conv", "batchnorm", "relu", "pool", "fc")
# Caps of the random campaign (multiply-accumulates, elements, weights).
MAX_RANDOM_CONV_MACS = 8e9
MAX_RANDOM_ELEMENTS = 2e7
MAX_RANDOM_FC_WEIGHTS = 1.5e8


@dataclass(frozen=True)
class LayerShape:
    """One runnable layer at batch 1.

    conv: `channels` x `side` x `side` input, `kernel` x `kernel`, `filters` outputs,
    stride 1, 'same' padding. batchnorm, relu, pool (2x2 max): `channels` x `side` x
    `side`; a relu with `side` 0 acts on a vector of `channels` elements. fc:
    `channels` inputs, `filters` outputs.
    """

    op: str
    channels: int
    side: int = 0
    kernel: int = 0
    filters: int = 0

    @property
    def in_features(self) -> int:
        return self.channels * max(self.side, 1) ** 2

    @property
    def key(self) -> tuple[str, int, int, int]:
        """(op, in_features, out_features, k2f) with unused fields 0."""
        if self.op == "conv":
            return ("conv", self.in_features, 0, self.kernel**2 * self.filters)
        if self.op == "pool":
            return ("pool", self.in_features, (self.side // 2) ** 2 * self.channels, 0)
        if self.op == "fc":
            return ("fc", self.channels, self.filters, 0)
        return (self.op, self.in_features, 0, 0)

    @property
    def name(self) -> str:
        """Unique text of the shape (the resume key of a table row)."""
        if self.op == "fc":
            return f"fc {self.channels}->{self.filters}"
        dims = f"{self.channels}x{self.side}x{self.side}" if self.side else f"{self.channels}"
        if self.op == "conv":
            return f"conv {dims} k{self.kernel} f{self.filters}"
        return f"{self.op} {dims}"

    @property
    def work(self) -> float:
        """Rough cost, for ordering and caps: MACs (conv, fc) or elements."""
        if self.op == "conv":
            return float(self.in_features) * self.kernel**2 * self.filters
        if self.op == "fc":
            return float(self.channels) * self.filters
        return float(self.in_features)

    def build(self, device: str = "cpu"):
        """(module in eval mode, input tensor) on `device`; weights uniform in +-0.05."""
        import torch
        from torch import nn

        shape = (1, self.channels, self.side, self.side) if self.side else (1, self.channels)
        if self.op == "conv":
            module: nn.Module = nn.Conv2d(self.channels, self.filters, self.kernel,
                                          padding=self.kernel // 2, device="meta")  # fmt: skip
        elif self.op == "batchnorm":
            module = nn.BatchNorm2d(self.channels, device="meta")
        elif self.op == "relu":
            module = nn.ReLU(inplace=True)  # as in the space's models
        elif self.op == "pool":
            module = nn.MaxPool2d(2)
        elif self.op == "fc":
            module = nn.Linear(self.channels, self.filters, device="meta")
        else:
            raise ValueError(f"unknown op {self.op!r}")
        module = module.to_empty(device=device)
        gen = torch.Generator(device="cpu").manual_seed(0)
        with torch.no_grad():
            for p in module.parameters():  # fast init: the default one is slow for big FCs
                p.copy_(torch.rand(p.shape, generator=gen).sub_(0.5).mul_(0.1))
            for name, buf in module.named_buffers():  # batchnorm: mean 0, variance 1
                buf.fill_(1 if name == "running_var" else 0)
        x = torch.rand(shape, generator=gen).to(device)
        return module.eval(), x


def space_shapes(ops: tuple[str, ...] = OPS) -> list[LayerShape]:
    """Every layer shape of the VGG space's universe (see the module docstring)."""
    shapes: list[LayerShape] = []
    for h in range(NUM_CONV_RES):
        side = side_px(h)
        for f in F_CHOICES:
            if "conv" in ops:
                for c in CHANNEL_CHOICES:
                    for k in K_CHOICES:
                        shapes.append(LayerShape("conv", c, side, k, f))
            for op in ("batchnorm", "relu", "pool"):
                if op in ops:
                    shapes.append(LayerShape(op, f, side))
    if "relu" in ops:
        shapes += [LayerShape("relu", n) for n in FC_OUT_CHOICES]
    if "fc" in ops:
        fc_in = [side_px(h) ** 2 * f for h in (4, 5) for f in F_CHOICES] + list(FC_CHOICES)
        shapes += [
            LayerShape("fc", n_in, 0, 0, n_out) for n_in in fc_in for n_out in FC_OUT_CHOICES
        ]
    return _unique(shapes)


def random_shapes(ops: tuple[str, ...] = OPS, per_op: int = 100, seed: int = 0) -> list[LayerShape]:
    """`per_op` random shapes of each op in `ops` (seeded; capped in work)."""
    shapes: list[LayerShape] = []
    for i, op in enumerate(OPS):
        if op not in ops:
            continue
        rng = np.random.default_rng([seed, i])
        made: list[LayerShape] = []
        while len(made) < per_op:
            s = _draw(op, rng)
            if s is not None:
                made.append(s)
        shapes += made
    return _unique(shapes)


def _log_int(rng: np.random.Generator, lo: int, hi: int) -> int:
    return round(float(np.exp(rng.uniform(np.log(lo), np.log(hi)))))


def _draw(op: str, rng: np.random.Generator) -> LayerShape | None:
    if op == "fc":
        s = LayerShape("fc", _log_int(rng, 16, 65536), 0, 0, _log_int(rng, 10, 16384))
        return s if s.work <= MAX_RANDOM_FC_WEIGHTS else None
    if op == "conv":
        s = LayerShape("conv", _log_int(rng, 3, 512), _log_int(rng, 4, 224),
                       int(rng.choice([1, 3, 5, 7])), _log_int(rng, 8, 512))  # fmt: skip
        return s if s.work <= MAX_RANDOM_CONV_MACS else None
    if op == "relu" and rng.random() < 0.2:
        return LayerShape("relu", _log_int(rng, 10, 16384))
    side = _log_int(rng, 2, 224)
    if op == "pool":
        side += side % 2
    s = LayerShape(op, _log_int(rng, 3, 512), side)
    return s if s.work <= MAX_RANDOM_ELEMENTS else None


def _unique(shapes: list[LayerShape]) -> list[LayerShape]:
    seen: set[str] = set()
    out = []
    for s in shapes:
        if s.name not in seen:
            seen.add(s.name)
            out.append(s)
    return out
