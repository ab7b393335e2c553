"""Predictor features of the layers of Caffe's VGG16 and AlexNet, and their predictions.

The predictors know five ops by the features of DESIGN.md. The reference networks
(`lens_fast.device.reference_nets`) map onto them as follows:

* conv: ``(in_features, k*k*C_out)``. VGG16's convs are stride-1 'same' convs, for
  which ``in_features = H_in*W_in*C_in`` and ``in_features * k2f`` is exactly the
  multiply-accumulates. AlexNet's are not: conv1 is 11x11 with stride 4, conv2/4/5
  have two groups. Two mappings are offered: ``"equivalent"`` (default) uses
  ``in_features = H_out*W_out*C_in/groups``, the input of the stride-1, one-group
  conv that does the same work, so ``in_features * k2f`` is again the true
  multiply-accumulates; ``"raw"`` uses ``H_in*W_in*C_in`` as Neurosurgeon's
  features would, which overstates conv1's work 17-fold.
* relu: its elements. pool: ``(in, out)`` elements; AlexNet's 3x3 stride-2
  (overlapping) pools are given the same features although the predictors were fitted
  on 2x2 pools. fc: ``(in, out)``.
* LRN (AlexNet's Norm1/2), dropout (Drop6/7, a no-op at inference in Caffe but timed)
  and softmax (Prob) have no predictor: `reference_features` returns None for them,
  and comparisons report them apart (their measured time is outside the covered total).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lens_fast.device.reference_nets import REFERENCE_NETS, RefLayer

COVERED_KINDS: tuple[str, ...] = ("conv", "relu", "pool", "fc")


def reference_features(layer: RefLayer, conv_mapping: str = "equivalent"
                       ) -> tuple[str, tuple[int, ...]] | None:  # fmt: skip
    """(op, features) of a reference layer, or None for a kind without a predictor."""
    if layer.kind == "conv":
        if conv_mapping == "raw":
            return "conv", (layer.in_elems, layer.k2f)
        if conv_mapping != "equivalent":
            raise ValueError(f"conv_mapping must be 'equivalent' or 'raw', got {conv_mapping!r}")
        macs = layer.flops / 2.0
        return "conv", (round(macs / layer.k2f), layer.k2f)
    if layer.kind == "relu":
        return "relu", (layer.in_elems,)
    if layer.kind in ("pool", "fc"):
        return layer.kind, (layer.in_elems, layer.out_elems)
    return None


def predict_reference(predictors, model: str, conv_mapping: str = "equivalent") -> pd.DataFrame:
    """Per-layer predicted latency/power of reference network `model` ('vgg', 'alexnet').

    `predictors` is a `PredictorSet`. Columns: layer, kind, op, features,
    pred_latency_ms, pred_power_w (NaN for uncovered kinds), in network order.
    """
    rows = []
    for layer in REFERENCE_NETS[model]():
        mapped = reference_features(layer, conv_mapping)
        lat = pw = float("nan")
        op, feats = (None, ()) if mapped is None else mapped
        if op is not None:
            x = np.asarray([feats], dtype=np.float64)
            lat_a, pw_a = predictors.predict(op, x)
            lat, pw = float(lat_a[0]), float(pw_a[0])
        rows.append({"layer": layer.name, "kind": layer.kind, "op": op,
                     "features": list(feats), "pred_latency_ms": lat, "pred_power_w": pw})  # fmt: skip
    return pd.DataFrame(rows)
