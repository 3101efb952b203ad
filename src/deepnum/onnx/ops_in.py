"""ONNX operators run with deepnum's tensor operations, so an imported graph is differentiable and
trains like any deepnum model.

Each entry of :data:`OPS` is ``run(inputs, attributes) -> tuple of outputs`` for ONNX's semantics
at opset 13 and later (inputs are Tensors, ``None`` for an omitted optional input). Shapes,
axes and indices given as tensors (Reshape's shape, Slice's starts...) are read as numbers:
they come from initializers or from Shape, never from the data flowing through the model.

>>> OPS["Relu"]([x], {})            # (tensor(...),)
"""

from __future__ import annotations

import math

import numpy as np

import deepnum as dn
from deepnum import fast
from deepnum.errors import ModelFileError, ShapeError
from deepnum.nn import functional as F
from deepnum.ops import conv as conv_ops
from deepnum.ops import movement
from deepnum.ops import pool as pool_ops
from deepnum.ops import recurrent as rnn_ops
from deepnum.tensor import Tensor

OPS: dict = {}
MAX_ELEMENTS = 2**28  # numbers one intermediate may hold (1 GiB of float32): a file's shapes,
#                      pads and kernels cannot make deepnum allocate more


def op(*names):
    def register(fn):
        for n in names:
            OPS[n] = fn
        return fn

    return register


def _ints(t) -> list[int]:
    return [int(v) for v in np.asarray(t.array if isinstance(t, Tensor) else t).reshape(-1)]


def _const(array) -> Tensor:
    return Tensor._wrap(np.asarray(array))


def _axis(axis: int, ndim: int) -> int:
    return axis + ndim if axis < 0 else axis


def _check_size(shape, what: str) -> None:
    if any(s < 0 for s in shape) or math.prod(shape) > MAX_ELEMENTS:
        raise ShapeError(f"{what}: shape {list(shape)[:8]} is negative or larger than "
                         f"{MAX_ELEMENTS:,} elements")


# ---------------------------------------------------------------------------- elementwise
_BINARY = {"Add": lambda a, b: a + b, "Sub": lambda a, b: a - b, "Mul": lambda a, b: a * b,
           "Div": lambda a, b: a / b if a.dtype.is_floating_point else a // b,
           "Pow": lambda a, b: a ** b}
_UNARY = {"Neg": lambda x: -x, "Exp": dn.exp, "Log": dn.log, "Sqrt": dn.sqrt, "Abs": dn.abs,
          "Relu": F.relu, "Sigmoid": F.sigmoid, "Tanh": F.tanh, "Sign": dn.sign, "Sin": dn.sin,
          "Cos": dn.cos, "Tan": dn.tan, "Asin": dn.asin, "Acos": dn.acos, "Atan": dn.atan,
          "Sinh": dn.sinh, "Cosh": dn.cosh, "Erf": dn.erf, "Floor": dn.floor, "Ceil": dn.ceil,
          "Round": dn.round, "Identity": lambda x: x, "Softplus": F.softplus,
          "Reciprocal": lambda x: 1 / x}
_COMPARE = {"Greater": np.greater, "Less": np.less, "Equal": np.equal,
            "GreaterOrEqual": np.greater_equal, "LessOrEqual": np.less_equal,
            "And": np.logical_and, "Or": np.logical_or, "Xor": np.logical_xor}


def _binary(name):
    fn = _BINARY[name]

    def run(inputs, attributes):
        a, b = inputs
        if name == "Pow" and b.ndim == 0 and b.requires_grad is False:
            return (a ** float(b.array) if a.dtype.is_floating_point else a ** b,)
        return (fn(a, b),)

    return run


for _n in _BINARY:
    OPS[_n] = _binary(_n)
for _n, _f in _UNARY.items():
    OPS[_n] = (lambda f: lambda inputs, attributes: (f(inputs[0]),))(_f)
for _n, _f in _COMPARE.items():
    OPS[_n] = (lambda f: lambda inputs, attributes: (
        _const(f(inputs[0].array, inputs[1].array)),))(_f)


@op("Not")
def _not(inputs, attributes):
    return (_const(np.logical_not(inputs[0].array)),)


def _variadic_of(name):
    def run(inputs, attributes):
        out = inputs[0]
        for t in inputs[1:]:
            out = {"Max": dn.maximum, "Min": dn.minimum}.get(name, lambda a, b: a + b)(out, t)
        return (out / len(inputs) if name == "Mean" else out,)

    return run


for _n in ("Max", "Min", "Sum", "Mean"):
    OPS[_n] = _variadic_of(_n)


@op("LeakyRelu")
def _leaky_relu(inputs, attributes):
    x, alpha = inputs[0], float(attributes.get("alpha", 0.01))
    return (dn.where(x > 0, x, x * alpha),)


@op("Elu")
def _elu(inputs, attributes):
    return (F.elu(inputs[0], float(attributes.get("alpha", 1.0))),)


@op("Selu")
def _selu(inputs, attributes):
    alpha = float(attributes.get("alpha", 1.67326319217681884765625))
    gamma = float(attributes.get("gamma", 1.05070102214813232421875))
    return (F.elu(inputs[0], alpha) * gamma,)


@op("Celu")
def _celu(inputs, attributes):
    return (F.celu(inputs[0], float(attributes.get("alpha", 1.0))),)


@op("HardSigmoid")
def _hard_sigmoid(inputs, attributes):  # max(0, min(1, alpha x + beta))
    alpha, beta = float(attributes.get("alpha", 0.2)), float(attributes.get("beta", 0.5))
    if alpha == 1 / 6 and beta == 0.5:
        return (F.hardsigmoid(inputs[0]),)  # PyTorch's, exported as this pair
    return ((inputs[0] * alpha + beta).clip(0.0, 1.0),)


@op("HardSwish")
def _hard_swish(inputs, attributes):
    return (F.hardswish(inputs[0]),)


@op("PRelu")
def _prelu(inputs, attributes):
    x, slope = inputs
    return (dn.where(x >= 0, x, x * slope),)


@op("Clip")
def _clip(inputs, attributes):
    x = inputs[0]
    low = inputs[1] if len(inputs) > 1 else None
    high = inputs[2] if len(inputs) > 2 else None
    return (x.clip(None if low is None else float(low.array),
                   None if high is None else float(high.array)),)


@op("Where")
def _where(inputs, attributes):
    condition, a, b = inputs
    return (dn.where(condition.array.astype(bool), a, b),)


@op("Dropout")
def _dropout(inputs, attributes):
    return (inputs[0],)  # inference: the identity (and no mask output is used)


# ---------------------------------------------------------------------------- products
@op("MatMul")
def _matmul(inputs, attributes):
    return (inputs[0] @ inputs[1],)


@op("Gemm")
def _gemm(inputs, attributes):
    a, b = inputs[0], inputs[1]
    c = inputs[2] if len(inputs) > 2 else None
    alpha, beta = float(attributes.get("alpha", 1.0)), float(attributes.get("beta", 1.0))
    if attributes.get("transA", 0):
        a = a.t()
    if attributes.get("transB", 0) and alpha == 1 and (c is None or beta == 1) and (
            c is None or c.ndim == 1):
        return (F.linear(a, b, c),)  # x W^T + b: one fused op
    b = b.t() if attributes.get("transB", 0) else b
    out = a @ b
    if alpha != 1:
        out = out * alpha
    if c is not None:
        out = out + (c * beta if beta != 1 else c)
    return (out,)


@op("Einsum")
def _einsum(inputs, attributes):
    return (dn.einsum(attributes["equation"], *inputs),)


# ---------------------------------------------------------------------------- convolution
def _same_pads(size, kernel, stride, dilation, upper: bool):
    """auto_pad SAME_*: pads that make the output ceil(size / stride)."""
    pads_begin, pads_end = [], []
    for n, k, s, d in zip(size, kernel, stride, dilation):
        total = max((math.ceil(n / s) - 1) * s + (k - 1) * d + 1 - n, 0)
        small, big = total // 2, total - total // 2
        pads_begin.append(small if upper else big)
        pads_end.append(big if upper else small)
    return pads_begin + pads_end


def _geometry(x, attributes, kernel):
    spatial = x.ndim - 2
    stride = list(attributes.get("strides", [1] * spatial))
    dilation = list(attributes.get("dilations", [1] * spatial))
    auto = attributes.get("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        pads = _same_pads(x.shape[2:], kernel, stride, dilation, auto == "SAME_UPPER")
    elif auto == "VALID":
        pads = [0] * 2 * spatial
    else:
        pads = list(attributes.get("pads", [0] * 2 * spatial))
    return stride, dilation, pads


def _as_2d(x, *pieces):
    """A 1-D (N, C, L) case as a 2-D one of height 1."""
    return x.unsqueeze(2), [[1, *p] if len(p) == 1 else p for p in pieces]


@op("Conv")
def _conv(inputs, attributes):
    x, w = inputs[0], inputs[1]
    b = inputs[2] if len(inputs) > 2 else None
    kernel = list(attributes.get("kernel_shape", w.shape[2:]))
    stride, dilation, pads = _geometry(x, attributes, kernel)
    one_d = x.ndim == 3
    if one_d:
        x, w = x.unsqueeze(2), w.unsqueeze(2)
        stride, dilation, pads = [1, *stride], [1, *dilation], [0, pads[0], 0, pads[1]]
    if x.ndim != 4:
        raise ShapeError(f"Conv: deepnum runs 1-D and 2-D convolutions, got input of shape "
                         f"{tuple(x.shape)}")
    groups = int(attributes.get("group", 1))
    if x.shape[1] != w.shape[1] * groups:
        raise ShapeError(f"Conv: weight {tuple(w.shape)} with group={groups} expects "
                         f"{w.shape[1] * groups} input channels, got input of shape "
                         f"{tuple(x.shape)}")
    n, _, h, wd = x.shape
    out_hw = [(size + pads[i] + pads[i + 2] - dilation[i] * (w.shape[2 + i] - 1) - 1)
              // max(stride[i], 1) + 1 for i, size in enumerate((h, wd))]
    if min(stride) < 1 or min(dilation) < 1 or min(pads) < 0 or min(out_hw) < 1:
        raise ShapeError(f"Conv: strides {stride}, dilations {dilation} and pads {pads} do not "
                         f"fit a kernel {tuple(w.shape[2:])} on an input {tuple(x.shape)}")
    _check_size([n, x.shape[1] * w.shape[2] * w.shape[3], *out_hw], "Conv (its patches)")
    _check_size([n, x.shape[1], h + pads[0] + pads[2], wd + pads[1] + pads[3]], "Conv padding")
    implementation = fast.choose(conv_ops.Conv2d, batch=x.shape[0])
    args = (x, w) if b is None else (x, w, b)
    out = implementation.apply(*args, stride=tuple(stride), dilation=tuple(dilation),
                               padding=((pads[0], pads[2]), (pads[1], pads[3])), groups=groups)
    return (out.squeeze(2) if one_d else out,)


def _pool_input(x, attributes, fill: float):
    """(x padded where ONNX's padding is asymmetric or ceil_mode adds windows, kernel, stride,
    symmetric padding, dilation) for deepnum's pooling ops."""
    one_d = x.ndim == 3
    kernel = list(attributes["kernel_shape"])
    stride, dilation, pads = _geometry(x, attributes, kernel)
    if one_d:
        x = x.unsqueeze(2)
        kernel, stride, dilation = [1, *kernel], [1, *stride], [1, *dilation]
        pads = [0, pads[0], 0, pads[1]]
    if x.ndim != 4:
        raise ShapeError(f"pooling: deepnum pools 1-D and 2-D inputs, got {tuple(x.shape)}")
    begin, end = pads[:2], pads[2:]
    if attributes.get("ceil_mode", 0):
        for i in range(2):
            n, k, s, d = x.shape[2 + i], kernel[i], stride[i], dilation[i]
            reach = d * (k - 1) + 1
            out = math.ceil((n + begin[i] + end[i] - reach) / s) + 1
            if (out - 1) * s >= n + begin[i]:  # a window may not start in the end padding
                out -= 1
            end[i] += max((out - 1) * s + reach - (n + begin[i] + end[i]), 0)
    if min(stride) < 1 or min(dilation) < 1 or min(kernel) < 1 or min(begin + end) < 0:
        raise ShapeError(f"pooling: kernel {kernel}, strides {stride}, dilations {dilation} "
                         f"and pads {pads} are not all positive")
    _check_size([*x.shape[:2], x.shape[2] + begin[0] + end[0], x.shape[3] + begin[1] + end[1]],
                "pooling padding")
    symmetric = [min(b, e) for b, e in zip(begin, end)]
    extra = [(b - s, e - s) for b, e, s in zip(begin, end, symmetric)]
    if any(a or b for a, b in extra):
        x = movement.Pad.apply(x, pad_width=((0, 0), (0, 0), *extra), value=fill,
                               mode="constant")
    return x, kernel, stride, symmetric, dilation, one_d, any(a or b for a, b in extra)


@op("MaxPool")
def _max_pool(inputs, attributes):
    x, kernel, stride, padding, dilation, one_d, _ = _pool_input(inputs[0], attributes, -np.inf)
    implementation = fast.choose(pool_ops.MaxPool2d, batch=x.shape[0])
    out = implementation.apply(x, kernel_size=tuple(kernel), stride=tuple(stride),
                               padding=tuple(padding), dilation=tuple(dilation))
    return (out.squeeze(2) if one_d else out,)


@op("AveragePool")
def _avg_pool(inputs, attributes):
    include = bool(attributes.get("count_include_pad", 0))
    x, kernel, stride, padding, dilation, one_d, padded = _pool_input(inputs[0], attributes, 0.0)
    if padded and not include:
        raise ModelFileError("AveragePool: asymmetric padding or ceil_mode without "
                             "count_include_pad is not supported by deepnum")
    if any(d != 1 for d in dilation):
        raise ModelFileError("AveragePool: dilations are not supported by deepnum")
    out = pool_ops.AvgPool2d.apply(x, kernel_size=tuple(kernel), stride=tuple(stride),
                                   padding=tuple(padding), count_include_pad=include)
    return (out.squeeze(2) if one_d else out,)


@op("GlobalAveragePool")
def _global_avg(inputs, attributes):
    x = inputs[0]
    return (x.mean(tuple(range(2, x.ndim)), keepdim=True),)


@op("GlobalMaxPool")
def _global_max(inputs, attributes):
    x = inputs[0]
    return (x.amax(tuple(range(2, x.ndim)), keepdim=True),)


@op("BatchNormalization")
def _batch_norm(inputs, attributes):
    x, scale, shift, mean, var = inputs[:5]
    if attributes.get("training_mode", 0):
        raise ModelFileError("BatchNormalization: training_mode=1 is not supported")
    shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
    eps = float(attributes.get("epsilon", 1e-5))
    invstd = _const((1.0 / np.sqrt(var.array.astype(np.float64) + eps)).astype(x.array.dtype))
    return ((x - mean.reshape(shape)) * invstd.reshape(shape) * scale.reshape(shape)
            + shift.reshape(shape),)


# ---------------------------------------------------------------------------- shapes
@op("Shape")
def _shape(inputs, attributes):
    shape = list(inputs[0].shape)
    start, end = attributes.get("start", 0), attributes.get("end", len(shape))
    return (_const(np.asarray(shape[start:end], dtype=np.int64)),)


@op("Reshape")
def _reshape(inputs, attributes):
    x, target = inputs[0], _ints(inputs[1])
    if not attributes.get("allowzero", 0):  # 0: keep the input's size there
        target = [x.shape[i] if s == 0 else s for i, s in enumerate(target)]
    return (x.reshape(tuple(target)),)


@op("Flatten")
def _flatten(inputs, attributes):
    x = inputs[0]
    axis = _axis(int(attributes.get("axis", 1)), x.ndim)
    return (x.reshape(int(math.prod(x.shape[:axis])), -1),)


@op("Transpose")
def _transpose(inputs, attributes):
    x = inputs[0]
    perm = attributes.get("perm", list(reversed(range(x.ndim))))
    return (x.permute(*perm),)


def _axes_of(inputs, attributes, position: int):
    if len(inputs) > position and inputs[position] is not None:
        return _ints(inputs[position])
    return attributes.get("axes")


@op("Squeeze")
def _squeeze(inputs, attributes):
    x = inputs[0]
    axes = _axes_of(inputs, attributes, 1)
    if axes is None:
        axes = [i for i, n in enumerate(x.shape) if n == 1]
    axes = sorted(_axis(a, x.ndim) for a in axes)
    return (x.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes)),)


@op("Unsqueeze")
def _unsqueeze(inputs, attributes):
    x = inputs[0]
    axes = _axes_of(inputs, attributes, 1)
    rank = x.ndim + len(axes)
    shape, source = [], iter(x.shape)
    axes = {_axis(a, rank) for a in axes}
    for i in range(rank):
        shape.append(1 if i in axes else next(source))
    return (x.reshape(tuple(shape)),)


@op("Concat")
def _concat(inputs, attributes):
    return (dn.cat([t for t in inputs if t is not None], dim=int(attributes["axis"])),)


def run_split(inputs, attributes, num_outputs: int):
    x = inputs[0]
    axis = _axis(int(attributes.get("axis", 0)), x.ndim)
    sizes = _ints(inputs[1]) if len(inputs) > 1 and inputs[1] is not None else \
        attributes.get("split")
    if sizes is None:
        n = x.shape[axis]
        step = -(-n // num_outputs)
        sizes = [min(step, n - i * step) for i in range(num_outputs)]
    pieces, start = [], 0
    for size in sizes:
        index = (slice(None),) * axis + (slice(start, start + size),)
        pieces.append(x[index])
        start += size
    return tuple(pieces)


@op("Slice")
def _slice(inputs, attributes):
    x = inputs[0]
    starts, ends = _ints(inputs[1]), _ints(inputs[2])
    axes = _ints(inputs[3]) if len(inputs) > 3 and inputs[3] is not None else \
        list(range(len(starts)))
    steps = _ints(inputs[4]) if len(inputs) > 4 and inputs[4] is not None else [1] * len(starts)
    index = [slice(None)] * x.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps):
        if step == 0:
            raise ShapeError("Slice: a step of 0")
        n = x.shape[_axis(axis, x.ndim)]
        # ONNX clamps; Python slices clamp too, but INT64_MIN as an end means "before 0"
        stop = None if (step < 0 and end < -n) else max(min(end, n), -n - 1)
        index[_axis(axis, x.ndim)] = slice(max(min(start, n), -n), stop, step)
    return (x[tuple(index)],)


@op("Gather")
def _gather(inputs, attributes):
    x, indices = inputs
    axis = _axis(int(attributes.get("axis", 0)), x.ndim)
    ids = np.asarray(indices.array).astype(np.int64)
    n = x.shape[axis]
    if ids.size and (ids.min() < -n or ids.max() >= n):
        raise ShapeError(f"Gather: index out of range for axis {axis} of size {n}")
    head = (slice(None),) * axis
    if ids.ndim == 0:
        return (x[head + (int(ids),)],)
    return (x[head + (np.where(ids < 0, ids + n, ids),)],)


@op("GatherElements")
def _gather_elements(inputs, attributes):
    x, indices = inputs
    axis = _axis(int(attributes.get("axis", 0)), x.ndim)
    ids = np.asarray(indices.array).astype(np.int64)
    ids = np.where(ids < 0, ids + x.shape[axis], ids)
    return (dn.gather(x, axis, _const(ids)),)


@op("Expand")
def _expand(inputs, attributes):
    x, shape = inputs[0], _ints(inputs[1])
    target = np.broadcast_shapes(tuple(x.shape), tuple(shape))
    _check_size(target, "Expand")
    return (x.expand(*target),)


@op("Cast")
def _cast(inputs, attributes):
    from deepnum.onnx.graph import ONNX_DTYPES

    to = ONNX_DTYPES.get(int(attributes["to"]))
    if to is None:
        raise ModelFileError(f"Cast: element type {attributes['to']} is not one deepnum holds")
    return (inputs[0].astype(np.dtype(to)),)


@op("Pad")
def _pad(inputs, attributes):
    x, pads = inputs[0], _ints(inputs[1])
    value = float(inputs[2].array) if len(inputs) > 2 and inputs[2] is not None else 0.0
    axes = _ints(inputs[3]) if len(inputs) > 3 and inputs[3] is not None else range(x.ndim)
    width = [[0, 0] for _ in range(x.ndim)]
    k = len(pads) // 2
    for i, axis in enumerate(axes):
        width[_axis(axis, x.ndim)] = [pads[i], pads[i + k]]
    mode = {"constant": "constant", "reflect": "reflect", "edge": "replicate",
            "wrap": "circular"}[attributes.get("mode", "constant")]
    if any(a < 0 or b < 0 for a, b in width):
        raise ModelFileError("Pad: negative pads are not supported by deepnum")
    _check_size([n + a + b for n, (a, b) in zip(x.shape, width)], "Pad")
    return (movement.Pad.apply(x, pad_width=tuple(map(tuple, width)), value=value, mode=mode),)


@op("ConstantOfShape")
def _constant_of_shape(inputs, attributes):
    shape = _ints(inputs[0])
    _check_size(shape, "ConstantOfShape")
    value = attributes.get("value", np.zeros(1, np.float32))
    return (_const(np.full(shape, np.asarray(value).reshape(-1)[0],
                           dtype=np.asarray(value).dtype)),)


# ---------------------------------------------------------------------------- reductions
_REDUCE = {"ReduceSum": lambda x, a, k: x.sum(a, keepdim=k),
           "ReduceMean": lambda x, a, k: x.mean(a, keepdim=k),
           "ReduceMax": lambda x, a, k: x.amax(a, keepdim=k),
           "ReduceMin": lambda x, a, k: x.amin(a, keepdim=k),
           "ReduceProd": None,
           "ReduceL2": lambda x, a, k: dn.norm(x, dim=a, keepdim=k)}


def _reduce_of(name):
    def run(inputs, attributes):
        x = inputs[0]
        axes = _axes_of(inputs, attributes, 1)
        keep = bool(attributes.get("keepdims", 1))
        if not axes:
            if attributes.get("noop_with_empty_axes", 0):
                return (x,)
            axes = list(range(x.ndim))
        axes = tuple(sorted(_axis(a, x.ndim) for a in axes))
        if name == "ReduceProd":
            out = x
            for a in reversed(axes):
                out = out.prod(a, keepdim=keep)
            return (out,)
        return (_REDUCE[name](x, axes, keep),)

    return run


for _n in _REDUCE:
    OPS[_n] = _reduce_of(_n)


@op("Softmax")
def _softmax(inputs, attributes):
    return (F.softmax(inputs[0], int(attributes.get("axis", -1))),)


@op("LogSoftmax")
def _log_softmax(inputs, attributes):
    return (F.log_softmax(inputs[0], int(attributes.get("axis", -1))),)


@op("CumSum")
def _cumsum(inputs, attributes):
    if attributes.get("exclusive", 0) or attributes.get("reverse", 0):
        raise ModelFileError("CumSum: exclusive and reverse are not supported by deepnum")
    return (inputs[0].cumsum(_ints(inputs[1])[0]),)


# ---------------------------------------------------------------------------- recurrent
# PyTorch's gate blocks as ONNX's block indices (the inverse of the exporter's order)
TORCH_ORDER = {"RNN": [0], "LSTM": [0, 2, 3, 1], "GRU": [1, 0, 2]}


def _torch_rows(mode: str, hidden: int) -> np.ndarray:
    return np.concatenate([np.arange(b * hidden, (b + 1) * hidden) for b in TORCH_ORDER[mode]])


def run_recurrent(mode: str, inputs, attributes, num_outputs: int):
    """ONNX's RNN/LSTM/GRU (layout 0: (T, N, F)) with deepnum's fused sequence ops."""
    x, w, r = inputs[0], inputs[1], inputs[2]
    b = inputs[3] if len(inputs) > 3 else None
    lengths = inputs[4] if len(inputs) > 4 else None
    h0 = inputs[5] if len(inputs) > 5 else None
    c0 = inputs[6] if len(inputs) > 6 else None
    hidden = int(attributes["hidden_size"])
    if attributes.get("layout", 0) or attributes.get("clip") is not None or attributes.get(
            "input_forget", 0):
        raise ModelFileError(f"{mode}: layout=1, clip and input_forget are not supported")
    if lengths is not None and not np.all(lengths.array == x.shape[0]):
        raise ModelFileError(f"{mode}: sequences of different lengths are not supported")
    if mode == "GRU" and not attributes.get("linear_before_reset", 0):
        raise ModelFileError("GRU: only linear_before_reset=1 (PyTorch's GRU) is supported")
    direction = attributes.get("direction", "forward")
    acts = [a.lower() for a in attributes.get("activations", [])]
    nonlinearity = "relu" if mode == "RNN" and acts and acts[0] == "relu" else "tanh"
    default = {"RNN": ["tanh"], "LSTM": ["sigmoid", "tanh", "tanh"], "GRU": ["sigmoid", "tanh"]}
    if acts and not (mode == "RNN" and set(acts) <= {"tanh", "relu"} and len(set(acts)) == 1) \
            and acts[:len(default[mode])] != default[mode]:
        raise ModelFileError(f"{mode}: activations {acts} are not supported")
    rows = _const(_torch_rows(mode, hidden))
    length, batch = x.shape[0], x.shape[1]
    gates = {"RNN": 1, "LSTM": 4, "GRU": 3}[mode]
    zeros = _const(np.zeros((batch, hidden), dtype=x.array.dtype))
    outs, finals, cells = [], [], []
    for d in range(w.shape[0]):
        w_ih, w_hh = w[d][rows.array], r[d][rows.array]
        if b is not None:
            b_ih = b[d][:gates * hidden][rows.array]
            b_hh = b[d][gates * hidden:][rows.array]
        else:
            b_ih, b_hh = None, _const(np.zeros(gates * hidden, dtype=x.array.dtype))
        reverse = direction == "reverse" or d == 1
        xw = F.linear(x.reshape(length * batch, x.shape[2]), w_ih, b_ih).reshape(
            length, batch, gates * hidden)
        h = zeros if h0 is None else h0[d]
        if mode == "LSTM":
            c = zeros if c0 is None else c0[d]
            out = rnn_ops.LSTMSequence.apply(xw, h, c, w_hh, b_hh, reverse=reverse)
            y, cells_last = out[:length], out[length]
            cells.append(cells_last)
        elif mode == "GRU":
            y = rnn_ops.GRUSequence.apply(xw, h, w_hh, b_hh, reverse=reverse)
        else:
            y = rnn_ops.RNNSequence.apply(xw, h, w_hh, b_hh, nonlinearity=nonlinearity,
                                          reverse=reverse)
        outs.append(y)
        finals.append(y[0] if reverse else y[length - 1])
    results = [dn.stack(outs, dim=1), dn.stack(finals)]
    if mode == "LSTM":
        results.append(dn.stack(cells))
    return tuple(results[:max(num_outputs, 1)])


# ops whose number of outputs is the node's: run(inputs, attributes, num_outputs)
MULTI_OUTPUT = {"Split": run_split,
                "RNN": lambda i, a, n: run_recurrent("RNN", i, a, n),
                "LSTM": lambda i, a, n: run_recurrent("LSTM", i, a, n),
                "GRU": lambda i, a, n: run_recurrent("GRU", i, a, n)}
