"""The torch models of the space: shapes, hand-counted parameters, layers vs decode."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from lens_fast.accuracy.models import (
    build_model,
    expected_specs,
    layer_specs,
    multiply_accumulates,
    output_shape,
    parameter_count,
)
from lens_fast.space.layers import NATIVE_SPLIT_NAMES
from lens_fast.space.vgg import COL_FC1, COL_FC2, COL_POOL0, decode, sample, smallest

# The authors' "Model a" (paper encoding): p = 5, so blocks 1-4 pool and block 5 does not.
MODEL_A_PAPER = [24, 3, 2, 36, 3, 1, 128, 7, 1, 24, 5, 1, 96, 5, 1, 5, 512, 256]


def _conv(c_in, c_out, k):  # weights + bias, then BatchNorm's gamma and beta
    return c_in * c_out * k * k + c_out + 2 * c_out


def test_parameter_count_smallest_by_hand():
    # 3->24 k3, then four 24->24 k3 blocks; five pools leave 24 x 1 x 1; fc1 256; 10 classes.
    hand = _conv(3, 24, 3) + 4 * _conv(24, 24, 3) + (24 * 256 + 256) + (256 * 10 + 10)
    assert hand == 30_714
    assert parameter_count(build_model(decode(smallest()))) == hand


def test_parameter_count_model_a_by_hand():
    convs = (
        _conv(3, 24, 3) + _conv(24, 24, 3)  # block 1: two layers
        + _conv(24, 36, 3) + _conv(36, 128, 7) + _conv(128, 24, 5) + _conv(24, 96, 5)
    )  # fmt: skip
    flat = 96 * 2 * 2  # four pools: 32 -> 2
    hand = convs + (flat * 512 + 512) + (512 * 256 + 256) + (256 * 10 + 10)
    assert hand == 705_814
    assert parameter_count(build_model(decode(MODEL_A_PAPER, "paper"))) == hand


def test_output_shapes_of_random_architectures():
    # Shapes propagate on the meta device without arithmetic: 30 random architectures.
    for row in sample(30, seed=11):
        with torch.device("meta"):
            model = build_model(decode(row)).eval()
            assert tuple(model(torch.empty(3, 3, 32, 32)).shape) == (3, 10)
    # And for real on two small ones.
    torch.manual_seed(0)
    for row in (smallest(), decode(MODEL_A_PAPER, "paper")):
        arch = decode(row) if isinstance(row, np.ndarray) else row
        assert output_shape(build_model(arch)) == (1, 10)


def test_224_input_for_device_profiling():
    model = build_model(decode(smallest()), input_side=224)
    assert model.fc1.in_features == 24 * 7 * 7  # five pools: 224 -> 7
    assert output_shape(model, input_side=224) == (1, 10)


def test_layer_list_matches_the_space_decode():
    for row in sample(40, seed=5):
        arch = decode(row)
        with torch.device("meta"):  # no weight init: only the structure is read
            model = build_model(arch)
        specs = layer_specs(model)
        assert specs == expected_specs(arch)
        # Read the native row directly: per block l convs of f filters and kernel k.
        convs = [s for s in specs if s.kind == "conv"]
        assert len(convs) == sum(int(row[3 * b + 2]) for b in range(5))
        for b in range(5):
            mine = [s for s in convs if s.name.startswith(f"conv{b + 1}_")]
            assert len(mine) == row[3 * b + 2]
            assert {(s.n_out, s.kernel) for s in mine} == {(row[3 * b], row[3 * b + 1])}
            assert (f"pool{b + 1}" in dict(model.named_children())) == bool(row[COL_POOL0 + b])
        fcs = [s.n_out for s in specs if s.kind == "fc"]
        assert fcs == [w for w in (row[COL_FC1], row[COL_FC2]) if w] + [10]
        # Every splittable layer is a native split name, in the same order.
        names = [n for n, _ in model.named_children() if n in NATIVE_SPLIT_NAMES]
        assert names == sorted(names, key=NATIVE_SPLIT_NAMES.index)


def test_conv_then_relu_then_batchnorm():
    model = build_model(decode(MODEL_A_PAPER, "paper"))
    kinds = [type(m) for m in model.children()][:3]
    assert kinds == [nn.Conv2d, nn.ReLU, nn.BatchNorm2d]
    conv = model.conv3_1
    assert conv.kernel_size == (7, 7) and conv.padding == (3, 3) and conv.stride == (1, 1)


@pytest.mark.parametrize("row", [smallest(), np.asarray(sample(1, seed=2)[0])])
def test_multiply_accumulates_by_hand(row):
    arch = decode(row)
    side, c_in, hand = 32, 3, 0
    for block in arch.blocks:
        for _ in range(block.layers):
            hand += side * side * c_in * block.filters * block.kernel**2
            c_in = block.filters
        side //= 2 if block.pool else 1
    flat = c_in * side * side
    for width in (arch.fc1, arch.fc2, 10):
        if width:
            hand += flat * width
            flat = width
    assert multiply_accumulates(arch) == hand
    if row is smallest() or np.array_equal(row, smallest()):
        assert hand == 2_434_816
