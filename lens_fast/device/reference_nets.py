"""Layer-by-layer work of Caffe's VGG16 and AlexNet at 224x224x3, batch 1.

These are the two networks whose per-layer latencies the LENS authors measured on a
Jetson TX2 (../shared/data/tx2/tx2_measured_layers.csv, layer names as in Caffe).
They calibrate the builtin device and are the yardstick of its error. Shapes follow
the BVLC Caffe model definitions (AlexNet: 96 11x11/4 convs, grouped conv2/4/5, LRN;
VGG16: Simonyan & Zisserman configuration D).
"""

from __future__ import annotations

from dataclasses import dataclass

BYTES_F32 = 4


@dataclass(frozen=True)
class RefLayer:
    """One layer: its Caffe name, kind, work and data sizes."""

    name: str
    kind: str  # conv, relu, pool, fc, lrn, dropout, softmax, input
    flops: float  # floating-point operations (multiply-add = 2)
    in_elems: int  # input feature elements
    out_elems: int  # output feature elements
    weight_elems: int  # parameters read
    k2f: int = 0  # k*k*f_out (conv only)

    @property
    def bytes_moved(self) -> float:
        """Bytes read and written at float32 (input, output, weights)."""
        return float(BYTES_F32 * (self.in_elems + self.out_elems + self.weight_elems))


def _conv(name, side_in, c_in, c_out, k, stride, pad, groups=1):
    side_out = (side_in + 2 * pad - k) // stride + 1
    macs = side_out * side_out * c_out * (c_in // groups) * k * k
    return (
        RefLayer(
            name,
            "conv",
            2.0 * macs,
            side_in * side_in * c_in,
            side_out * side_out * c_out,
            c_out * (c_in // groups) * k * k,
            k * k * c_out,
        ),
        side_out,
    )


def _elementwise(name, kind, elems, flops_per_elem=1.0):
    return RefLayer(name, kind, flops_per_elem * elems, elems, elems, 0)


def _pool(name, side_in, c, k, stride):
    side_out = -(-(side_in - k) // stride) + 1  # Caffe rounds pooled sizes up
    out = side_out * side_out * c
    return RefLayer(name, "pool", float(out * k * k), side_in * side_in * c, out, 0), side_out


def _fc(name, n_in, n_out):
    return RefLayer(name, "fc", 2.0 * n_in * n_out, n_in, n_out, n_in * n_out)


def vgg16() -> list[RefLayer]:
    """Caffe VGG16 (configuration D) layers after the input, in network order."""
    layers = []
    side, c_in = 224, 3
    for block, (n_conv, c_out) in enumerate(((2, 64), (2, 128), (3, 256), (3, 512), (3, 512)), 1):
        for j in range(1, n_conv + 1):
            conv, side = _conv(f"Conv{block}_{j}", side, c_in, c_out, 3, 1, 1)
            layers += [conv, _elementwise(f"Relu{block}_{j}", "relu", side * side * c_out)]
            c_in = c_out
        pool, side = _pool(f"Pool{block}", side, c_in, 2, 2)
        layers.append(pool)
    flat = side * side * c_in
    layers += [_fc("FC6", flat, 4096), _elementwise("Relu6", "relu", 4096)]
    layers += [_fc("FC7", 4096, 4096), _elementwise("Relu7", "relu", 4096)]
    layers += [_fc("FC8", 4096, 1000), _elementwise("Prob", "softmax", 1000, 5.0)]
    return layers


def alexnet() -> list[RefLayer]:
    """Caffe BVLC AlexNet layers after the input, in network order."""
    layers = []
    conv, side = _conv("Conv1", 227, 3, 96, 11, 4, 0)
    layers += [conv, _elementwise("Relu1", "relu", side * side * 96)]
    layers.append(_elementwise("Norm1", "lrn", side * side * 96, 15.0))
    pool, side = _pool("Pool1", side, 96, 3, 2)
    layers.append(pool)
    conv, side = _conv("Conv2", side, 96, 256, 5, 1, 2, groups=2)
    layers += [conv, _elementwise("Relu2", "relu", side * side * 256)]
    layers.append(_elementwise("Norm2", "lrn", side * side * 256, 15.0))
    pool, side = _pool("Pool2", side, 256, 3, 2)
    layers.append(pool)
    conv, side = _conv("Conv3", side, 256, 384, 3, 1, 1)
    layers += [conv, _elementwise("Relu3", "relu", side * side * 384)]
    conv, side = _conv("Conv4", side, 384, 384, 3, 1, 1, groups=2)
    layers += [conv, _elementwise("Relu4", "relu", side * side * 384)]
    conv, side = _conv("Conv5", side, 384, 256, 3, 1, 1, groups=2)
    layers += [conv, _elementwise("Relu5", "relu", side * side * 256)]
    pool, side = _pool("Pool5", side, 256, 3, 2)
    layers.append(pool)
    flat = side * side * 256
    layers += [_fc("FC6", flat, 4096), _elementwise("Relu6", "relu", 4096)]
    layers.append(_elementwise("Drop6", "dropout", 4096))
    layers += [_fc("FC7", 4096, 4096), _elementwise("Relu7", "relu", 4096)]
    layers.append(_elementwise("Drop7", "dropout", 4096))
    layers += [_fc("FC8", 4096, 1000), _elementwise("Prob", "softmax", 1000, 5.0)]
    return layers


REFERENCE_NETS = {"vgg": vgg16, "alexnet": alexnet}
