"""Model sources: measured tables, torchvision graphs, rows of the space."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

from lens_fast import PerformanceModel, space
from lens_fast.device import load_device
from lens_fast.errors import InputFileError, LensError
from lens_fast.network import radio
from lens_fast.runtime import sources
from lens_fast.runtime.thresholds import envelope
from tests.conftest import shared_path


def measured_rows(model: str, processor: str) -> list[dict]:
    path = shared_path("tx2", "tx2_measured_layers.csv")
    with open(path, newline="") as fh:
        return [r for r in csv.DictReader(fh) if (r["model"], r["processor"]) == (model, processor)]


def test_measured_alexnet_gpu_options_and_threshold_closed_form():
    path = shared_path("tx2", "tx2_measured_layers.csv")
    rows = measured_rows("alexnet", "gpu")
    prof = sources.from_measured(path, "alexnet", "gpu", radio=radio("wifi"))
    assert prof.input_bytes == 150528 and len(prof.layer_names) == len(rows) - 1 == 23
    latency = [float(r["latency_ms"]) for r in rows[1:]]  # the input row is not compute
    np.testing.assert_allclose(prof.energy_mj, np.array(latency) * 8.5)  # authors' 8.5 W
    opts = prof.options()
    # all-cloud, every layer from pool5 on (output <= 150,528 bytes), all-edge
    assert sorted(opts.names) == sorted(
        ["all-cloud", "pool5", "fc6", "relu6", "drop6", "fc7", "relu7", "drop7", "fc8", "all-edge"]
    )
    edge = opts.index("all-edge")
    assert opts.size_bytes[edge] == 0 and opts.base_latency_ms[edge] == pytest.approx(sum(latency))
    # all-edge -> fc6: 0.008 * 16384 / (A_edge - A_fc6), A_fc6 = latency up to FC6
    names = [r["layer"] for r in rows[1:]]
    a_fc6 = sum(latency[: names.index("FC6") + 1])
    env = envelope(opts, "latency", prof.radio)
    assert env.names[:2] == ("all-edge", "fc6")
    assert env.breakpoints[0] == pytest.approx(0.008 * 16384 / (sum(latency) - a_fc6), rel=1e-12)
    assert env.names[-1] == "all-cloud"


def test_measured_power_and_wire_dtype():
    path = shared_path("tx2", "tx2_measured_layers.csv")
    prof = sources.from_measured(
        path, "AlexNet", "CPU", radio=radio("lte"), power_w=5.5, wire_bytes=2, rtt_ms=4.0
    )
    rows = measured_rows("alexnet", "cpu")
    assert prof.energy_mj[0] == pytest.approx(float(rows[1]["latency_ms"]) * 5.5)
    assert prof.output_bytes[0] == float(rows[1]["output_bytes"]) / 2  # fp32 -> fp16
    opts = prof.options()
    assert opts.base_latency_ms[opts.index("all-cloud")] == 4.0  # the RTT
    assert prof.input_bytes == 150528  # the uint8 image is not rescaled


def _write(tmp_path, text: str):
    p = tmp_path / "m.csv"
    p.write_text(text)
    return p


GOOD = (
    "model,processor,layer,output_bytes,latency_ms\n"
    "net,gpu,Input,1000,0.01\nnet,gpu,Conv1,4000,1.0\nnet,gpu,Pool1,800,0.5\n"
    "net,gpu,Conv2,1600,2.0\nnet,gpu,FC3,40,0.2\n"
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("output_bytes", "bytes"), "missing output_bytes"),
        (GOOD.replace("Pool1,800", "Pool1,"), "output_bytes must be a number > 0 (every layer"),
        (GOOD.replace("Conv2,1600", "Conv2,-5"), "got -5 (line 5, layer 'Conv2')"),
        (GOOD.replace("Conv1,4000,1.0\nnet,gpu,Pool1,800,0.5", "Pool1,800,0.5\nnet,gpu,Conv2,1600,2.0\nnet,gpu,Conv1,4000,1.0"), "layers out of order: got 'Conv1' after 'Conv2'"),
        (GOOD.replace("Input,1000,0.01\nnet,gpu,Conv1,4000,1.0", "Conv1,4000,1.0\nnet,gpu,Input,1000,0.01"), "got 'Conv1' first"),
        (GOOD.replace("latency_ms\n", "latency_ms\n").replace("0.2\n", "x\n"), "latency_ms must be a number >= 0"),
    ],
)  # fmt: skip
def test_measured_bad_tables_say_what_was_expected(tmp_path, text, message):
    with pytest.raises(InputFileError, match=re.escape(message)) as info:
        sources.from_measured(_write(tmp_path, text), "net", "gpu", radio=radio(), power_w=5)
    assert "\n" not in str(info.value)


def test_measured_unknown_model_and_missing_power(tmp_path):
    path = _write(tmp_path, GOOD)
    with pytest.raises(InputFileError, match=r"no rows for model 'vgg'.*expected one of net/gpu"):
        sources.from_measured(path, "vgg", "gpu", radio=radio(), power_w=5)
    with pytest.raises(LensError, match="got no --power-w for net on gpu"):
        sources.from_measured(path, "net", "gpu", radio=radio())
    prof = sources.from_measured(path, "net", "gpu", radio=radio(), power_w=2.0)
    # Conv1 (4000 B > 1000 B input) is no split; Pool1, Conv2? 1600 > 1000 no; FC3 is last
    assert sorted(prof.options().names) == ["all-cloud", "all-edge", "pool1"]


def test_row_source_names_and_out_of_range(tmp_path):
    from lens_fast.space.io import write_architectures

    batch = space.sample(3, seed=4)
    f = tmp_path / "a.csv"
    write_architectures(f, batch)
    with pytest.raises(sources.SourceError, match=r"got 3, expected 0..2"):
        sources.read_row(f, 3)
    row = sources.read_row(f, 2)
    np.testing.assert_array_equal(row, batch[2])
    model = PerformanceModel("builtin", "lte", semantics="lens-dac21")
    prof = sources.from_architecture(model, row)
    assert prof.layer_names[0] == "conv1" and prof.layer_names[-1] == "classifier"
    assert len(prof.layer_names) == 13 and prof.edge_bytes == 40


# -------------------------------------------------------------------- torchvision


@pytest.fixture(scope="module")
def builtin():
    return load_device("builtin")


def test_torchvision_alexnet_shapes_features_and_costs(builtin):
    from lens_fast.runtime.tracing import from_torchvision, trace

    layers = {layer["name"]: layer for layer in trace("alexnet")}
    conv1 = layers["features_0"]  # 64 filters 11x11 stride 4 pad 2 -> 64 x 55 x 55
    assert conv1["out_elems"] == 64 * 55 * 55
    assert conv1["k2f"] == round(55 * 55 * 64 * 3 * 121 / 150528)  # true MACs / in
    assert layers["features_12"]["out_elems"] == 256 * 6 * 6
    assert layers["classifier_1"]["in_features"] == 9216
    assert layers["classifier_1"]["out_features"] == 4096
    assert layers["classifier_0"]["device_op"] == "free"  # dropout
    prof = from_torchvision("alexnet", builtin, radio=radio("wifi"))
    j = prof.layer_names.index("features_3")  # 192 filters 5x5 on 64 x 27 x 27, same size
    lat, pw, _ = builtin.costs(np.array([0]), np.array([64 * 27 * 27]), np.array([0]),
                               np.array([25 * 192]))  # fmt: skip
    assert prof.latency_ms[j] == lat[0] and prof.energy_mj[j] == pytest.approx(lat[0] * pw[0])
    assert prof.latency_ms[prof.layer_names.index("flatten")] == 0.0
    viable = [n for n, v in zip(prof.layer_names, prof.viable, strict=True) if v]
    # pool2 (192 x 13 x 13 x 4 = 129,792 B) is the first layer no larger than the image
    assert viable[0] == "features_5" and prof.output_bytes[5] == 192 * 13 * 13 * 4


def test_torchvision_cut_points_only_on_the_main_chain():
    """resnet18: the stem (4 layers), each of 8 blocks after its add and relu, then
    avgpool, flatten, fc: 23 single-tensor points; nothing inside a block."""
    from lens_fast.runtime.tracing import trace

    layers = trace("resnet18")
    cuts = [layer["name"] for layer in layers if layer["single_tensor"]]
    assert len(cuts) == 4 + 8 * 2 + 3
    assert "layer1_0_conv1" not in cuts and "layer2_0_downsample_0" not in cuts
    assert cuts[:5] == ["conv1", "bn1", "relu", "maxpool", "add"]
    stem = next(layer for layer in layers if layer["name"] == "conv1")  # 7x7/2, 64 filters
    assert stem["k2f"] == 112 * 112 * 64 * 3 * 49 // 150528  # 784 exactly
    mb = {layer["name"]: layer for layer in trace("mobilenet_v2")}
    dw = mb["features_1_conv_0_0"]  # depthwise 3x3 on 32 x 112 x 112: k2f = 9
    assert dw["op"] == "Conv2d" and dw["k2f"] == 9


def test_torchvision_bad_names():
    from lens_fast.runtime.tracing import trace

    with pytest.raises(sources.SourceError, match="did you mean alexnet") as info:
        trace("alexnt")
    assert "\n" not in str(info.value)
    with pytest.raises(sources.SourceError, match=r"no device mapping: .*MultiheadAttention"):
        trace("vit_b_16")
