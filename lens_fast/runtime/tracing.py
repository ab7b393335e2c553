"""torchvision classifiers as `ModelProfile`s: torch.fx graph, shapes, device costs.

The model is built without weights (on torch's meta device when it allows, so
nothing is allocated or downloaded), traced with ``torch.fx.symbolic_trace`` and its
shapes propagated for a 1 x 3 x 224 x 224 input. Every graph node that yields a
tensor is a layer, in the graph's (topological) order; nodes that yield only shape
numbers (``size``, ``getattr``, ...) are not layers.

Cut points: a split may follow a layer only when the whole state of the network at
that point is that layer's output, i.e. no earlier tensor is still needed later (on
the main chain; never inside a residual block or between the branches of an
inception module).

Device ops. The device profile knows conv, batchnorm, relu, pool and fc with the
Neurosurgeon features of DESIGN.md; other torchvision ops are mapped as follows:

* ``Conv2d`` (any stride, padding, dilation, groups): conv with ``in_features`` =
  its input elements and ``k2f`` = its true multiply-accumulates / ``in_features``
  (rounded, >= 1), so the work the device sees is the conv's real FLOPs; for the
  space's stride-1 'same' convs this is exactly ``k*k*f``.
* ``Linear`` on a vector: fc ``(in, out)``; on a token tensor (more than one row):
  a 1x1 conv over all its elements (``k2f`` = out).
* batch/layer/group norm: batchnorm of its output elements.
* activations (ReLU, ReLU6, Hardswish, Hardsigmoid, SiLU, Sigmoid, GELU, ...),
  residual ``add``, ``mul`` (squeeze-excitation), ``cat``, ``contiguous`` (a copy):
  relu-like elementwise op of the output elements.
* max/avg/adaptive pools and spatial ``mean``: pool ``(in, out)`` elements.
* free (no cost): dropout, flatten, view/reshape/permute/transpose/chunk/getitem
  and other views, identity, stochastic depth in eval mode.

Anything else (attention, for example) is refused with the list of unmapped ops.
"""

from __future__ import annotations

import difflib
import math
import warnings

import numpy as np

from lens_fast.config import INPUT_BYTES, INPUT_CHANNELS, INPUT_SIDE_PX
from lens_fast.network import Radio
from lens_fast.runtime.sources import ModelProfile, SourceError, _default_option_names

CONV_OPS = frozenset({"Conv2d"})
LINEAR_OPS = frozenset({"Linear"})
NORM_OPS = frozenset(
    {"BatchNorm2d", "BatchNorm1d", "batch_norm", "LayerNorm", "layer_norm", "LayerNorm2d"}
    | {"GroupNorm", "group_norm", "LocalResponseNorm", "local_response_norm"}
)
ELEMENTWISE_OPS = frozenset(
    {"ReLU", "ReLU6", "relu", "relu_", "relu6", "Hardswish", "hardswish", "Hardsigmoid"}
    | {"hardsigmoid", "SiLU", "silu", "Sigmoid", "sigmoid", "GELU", "gelu", "Tanh", "tanh"}
    | {"Hardtanh", "hardtanh", "ELU", "elu", "LeakyReLU", "leaky_relu", "Softmax", "softmax"}
    | {"add", "iadd", "add_", "sub", "mul", "imul", "mul_", "truediv", "div", "cat"}
    | {"contiguous", "clamp", "neg"}
)
POOL_OPS = frozenset(
    {"MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "max_pool2d"}
    | {"avg_pool2d", "adaptive_avg_pool2d", "adaptive_max_pool2d", "mean", "amax"}
)
FREE_OPS = frozenset(
    {"Dropout", "dropout", "Flatten", "flatten", "Identity", "view", "reshape", "permute"}
    | {"transpose", "chunk", "split", "getitem", "squeeze", "unsqueeze", "expand"}
    | {"stochastic_depth", "StochasticDepth", "clone"}
)
# The device op each mapped op becomes (indices into catalog.OP_NAMES by name).
DEVICE_OP: dict[str, str] = {
    **{op: "conv" for op in CONV_OPS},
    **{op: "fc" for op in LINEAR_OPS},
    **{op: "batchnorm" for op in NORM_OPS},
    **{op: "relu" for op in ELEMENTWISE_OPS},
    **{op: "pool" for op in POOL_OPS},
    **{op: "free" for op in FREE_OPS},
}


def classification_models() -> list[str]:
    """Names of torchvision's classification models (torchvision.models.list_models)."""
    import torchvision

    return sorted(torchvision.models.list_models(module=torchvision.models))


def _build(name: str):
    import torch
    import torchvision

    known = classification_models()
    if name not in known:
        close = difflib.get_close_matches(name, known, n=3)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        raise SourceError(
            f"unknown torchvision model {name!r}, expected a classification model of "
            f"torchvision.models (e.g. alexnet, vgg16, resnet18, mobilenet_v2){hint}"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # googlenet/inception's init-weights notice
        try:
            with torch.device("meta"):  # no weights are allocated
                model = torchvision.models.get_model(name, weights=None)
            device = "meta"
        except (NotImplementedError, RuntimeError):  # an init that reads weights
            model = torchvision.models.get_model(name, weights=None)
            device = "cpu"
    return model.eval(), device


def _tensor_elems(meta) -> int:
    """Elements of a node's tensor metadata (a tensor, or a tuple/list of them)."""
    if meta is None:
        return 0
    if hasattr(meta, "shape"):
        return math.prod(int(d) for d in meta.shape)
    if isinstance(meta, list | tuple):
        return sum(_tensor_elems(m) for m in meta)
    if isinstance(meta, dict):
        return sum(_tensor_elems(m) for m in meta.values())
    return 0


def _op_name(gm, node) -> str:
    if node.op == "call_module":
        return type(gm.get_submodule(node.target)).__name__
    if node.op == "call_function":
        return getattr(node.target, "__name__", str(node.target))
    return str(node.target)  # call_method


def trace(name: str) -> list[dict]:
    """Layers of a torchvision model: dicts with name, op, device_op, in/out elements,
    device features (in_features, out_features, k2f) and single_tensor.
    """
    import torch
    from torch.fx import symbolic_trace
    from torch.fx.passes.shape_prop import ShapeProp

    model, device = _build(name)
    try:
        gm = symbolic_trace(model)
        x = torch.empty(1, INPUT_CHANNELS, INPUT_SIDE_PX, INPUT_SIDE_PX, device=device)
        with torch.no_grad():
            ShapeProp(gm).propagate(x)
    except Exception as exc:  # torch.fx cannot trace data-dependent control flow
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise SourceError(f"cannot trace torchvision model {name!r} with torch.fx: {text}") from exc
    nodes = list(gm.graph.nodes)
    pos = {node: i for i, node in enumerate(nodes)}
    is_tensor = [("tensor_meta" in node.meta) for node in nodes]
    last_use = [max((pos[u] for u in node.users), default=pos[node]) for node in nodes]
    layers: list[dict] = []
    unknown: set[str] = set()
    live_max = -1  # the latest last use of any tensor before the current node
    for i, node in enumerate(nodes):
        if node.op in ("placeholder", "get_attr"):
            if is_tensor[i] and node.op == "placeholder":
                live_max = max(live_max, last_use[i])
            continue
        if node.op == "output" or not is_tensor[i]:
            continue
        op = _op_name(gm, node)
        kind = DEVICE_OP.get(op)
        if kind is None:
            unknown.add(op)
            kind = "free"
        out_elems = _tensor_elems(node.meta.get("tensor_meta"))
        first = next((a for a in node.all_input_nodes if "tensor_meta" in a.meta), None)
        in_elems = _tensor_elems(first.meta.get("tensor_meta")) if first is not None else 0
        layer = {
            "name": node.name.lower(),
            "op": op,
            "device_op": kind,
            "in_elems": in_elems,
            "out_elems": out_elems,
            "single_tensor": live_max <= i,
            **_features(gm, node, kind, in_elems, out_elems),
        }
        layers.append(layer)
        live_max = max(live_max, last_use[i])
    if unknown:
        raise SourceError(
            f"torchvision model {name!r} has ops with no device mapping: "
            f"{', '.join(sorted(unknown))} (mapped: conv, linear, norms, activations, "
            "add/mul/cat, pools, views; see lens_fast/runtime/tracing.py)"
        )
    return layers


def _features(gm, node, kind: str, in_elems: int, out_elems: int) -> dict:
    """Device features (in_features, out_features, k2f) of one layer; the device op."""
    if kind == "conv":
        mod = gm.get_submodule(node.target)
        kh, kw = mod.kernel_size
        macs = out_elems * (mod.in_channels // mod.groups) * kh * kw
        return {"in_features": in_elems, "out_features": 0, "k2f": max(1, round(macs / in_elems))}
    if kind == "fc":
        mod = gm.get_submodule(node.target)
        if in_elems == mod.in_features:
            return {"in_features": mod.in_features, "out_features": mod.out_features, "k2f": 0}
        # a Linear over tokens: a 1x1 conv over all input elements (true MACs)
        return {
            "device_op": "conv",
            "in_features": in_elems,
            "out_features": 0,
            "k2f": mod.out_features,
        }
    if kind in ("batchnorm", "relu"):
        return {"in_features": out_elems, "out_features": 0, "k2f": 0}
    if kind == "pool":
        return {"in_features": in_elems, "out_features": out_elems, "k2f": 0}
    return {"in_features": 0, "out_features": 0, "k2f": 0}


def from_torchvision(
    name: str, device, *, radio: Radio, rtt_ms: float = 0.0, wire_bytes: int = 4
) -> ModelProfile:
    """A torchvision classifier on a device (a `DeviceModel`), native semantics.

    The input is the 224 x 224 x 3 uint8 image of DESIGN.md (all-cloud sends
    150,528 bytes); feature maps travel as `wire_bytes` per element.
    """
    from lens_fast.space.catalog import OP_NAMES

    layers = trace(name)
    n = len(layers)
    latency = np.zeros(n)
    power = np.zeros(n)
    costed = [j for j, layer in enumerate(layers) if layer["device_op"] != "free"]
    if costed:
        lat, pw, _ = device.costs(
            np.array([OP_NAMES.index(layers[j]["device_op"]) for j in costed]),
            np.array([layers[j]["in_features"] for j in costed], dtype=np.int64),
            np.array([layers[j]["out_features"] for j in costed], dtype=np.int64),
            np.array([layers[j]["k2f"] for j in costed], dtype=np.int64),
        )
        latency[costed] = lat
        power[costed] = pw
    names = tuple(layer["name"] for layer in layers)
    return ModelProfile(
        name=f"{name} (torchvision, {device.name})",
        layer_names=names,
        kinds=tuple(layer["op"] for layer in layers),
        codes=np.arange(1, n + 1, dtype=np.int64),
        option_names=_default_option_names(names),
        output_bytes=np.array([layer["out_elems"] * wire_bytes for layer in layers], dtype=float),
        latency_ms=latency,
        energy_mj=latency * power,
        single_tensor=np.array([layer["single_tensor"] for layer in layers], dtype=np.bool_),
        input_bytes=float(INPUT_BYTES),
        edge_bytes=0.0,
        rtt_ms=rtt_ms,
        radio=radio,
        device=device.name,
    )
