"""Each reference op of :mod:`deepnum.ops` as ONNX nodes, from the node's inputs and the keyword
``attributes`` it was called with.

A converter is ``convert(g, fn, inputs, other) -> output names``: ``g`` the
:class:`~deepnum.onnx.builder.Builder`, ``fn`` the recorded node (``fn.parents`` are the input
tensors, for shapes), ``inputs`` the ONNX names of those inputs, ``other`` the attributes the
same node had in the second trace, at another batch size (only the shape-taking ops use it: a
reshape to (N, 400) becomes (0, 400), "keep the input's first dimension"). The speed wing's ops
are subclasses registered as drop-ins of a reference op and convert as that op; its fused ops
(Linear+ReLU, Conv2d+ReLU[+MaxPool2d]) become the reference op followed by the fused ones.

>>> CONVERTERS[ops.elementwise.ReLU](g, fn, ["x"], {})     # ['/fc/Relu_output_0']
"""

from __future__ import annotations

import numpy as np

from deepnum.onnx.builder import ExportError
from deepnum.ops import conv, elementwise, index, linalg, movement, pool, reduce, unary

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min
CONVERTERS: dict = {}


def converts(*classes):
    def register(fn):
        for cls in classes:
            CONVERTERS[cls] = fn
        return fn

    return register


def _dtype(fn, i=0):
    return fn.parents[i].array.dtype


# ---------------------------------------------------------------------------- elementwise
_SAME_NAME = {elementwise.Add: "Add", elementwise.Sub: "Sub", elementwise.Mul: "Mul",
              elementwise.Div: "Div", elementwise.Neg: "Neg", elementwise.Pow: "Pow",
              elementwise.Exp: "Exp", elementwise.Log: "Log", elementwise.Sqrt: "Sqrt",
              elementwise.Abs: "Abs", elementwise.ReLU: "Relu", elementwise.Sigmoid: "Sigmoid",
              elementwise.Tanh: "Tanh", elementwise.Sign: "Sign", unary.Sin: "Sin",
              unary.Cos: "Cos", unary.Tan: "Tan", unary.Asin: "Asin", unary.Acos: "Acos",
              unary.Atan: "Atan", unary.Sinh: "Sinh", unary.Cosh: "Cosh", unary.Erf: "Erf",
              movement.Copy: "Identity"}


def _same_name(g, fn, inputs, other):
    # the op's class, or the reference it speeds up (fast.activation.KernelReLU: ReLU)
    return g.node(next(_SAME_NAME[c] for c in type(fn).__mro__ if c in _SAME_NAME), inputs)


for _cls in _SAME_NAME:
    CONVERTERS[_cls] = _same_name


@converts(elementwise.PowScalar)
def _pow_scalar(g, fn, inputs, other):
    exponent = fn.attributes["exponent"]
    if exponent == 2:  # x * x: exact, and what runtimes do fastest
        return g.node("Mul", [inputs[0], inputs[0]])
    return g.node("Pow", [inputs[0], g.const(exponent, "exponent", _dtype(fn))])


@converts(elementwise.Clip)
def _clip(g, fn, inputs, other):
    low, high = fn.attributes.get("low"), fn.attributes.get("high")
    dtype = _dtype(fn)
    bounds = [None if v is None else g.const(v, "bound", dtype) for v in (low, high)]
    return g.node("Clip", [inputs[0], *bounds])


@converts(elementwise.Where)
def _where(g, fn, inputs, other):
    condition = g.const(np.asarray(fn.attributes["condition"], dtype=bool), "condition")
    return g.node("Where", [condition, *inputs])


@converts(elementwise.Softplus)
def _softplus(g, fn, inputs, other):
    beta = float(fn.attributes.get("beta", 1.0))
    threshold = float(fn.attributes.get("threshold", 20.0))
    dtype = _dtype(fn)
    x = inputs[0]
    bx = x if beta == 1 else g.node("Mul", [x, g.const(beta, "beta", dtype)])[0]
    (soft,) = g.node("Softplus", [bx])
    if beta != 1:
        (soft,) = g.node("Div", [soft, g.const(beta, "beta", dtype)])
    if np.isinf(threshold):
        return [soft]
    # past the threshold softplus is the identity (PyTorch's rule), exactly
    (linear,) = g.node("Greater", [bx, g.const(threshold, "threshold", dtype)])
    return g.node("Where", [linear, x, soft])


@converts(elementwise.Step)
def _step(g, fn, inputs, other):
    # heaviside(z, 0.5) = (sign(z) + 1) / 2: 0, 0.5, 1
    dtype = _dtype(fn)
    (s,) = g.node("Sign", inputs)
    (s,) = g.node("Add", [s, g.const(1, "one", dtype)])
    return g.node("Mul", [s, g.const(0.5, "half", dtype)])


@converts(unary.Log1p)
def _log1p(g, fn, inputs, other):
    (y,) = g.node("Add", [inputs[0], g.const(1, "one", _dtype(fn))])
    return g.node("Log", [y])


@converts(unary.Expm1)
def _expm1(g, fn, inputs, other):
    (y,) = g.node("Exp", inputs)
    return g.node("Sub", [y, g.const(1, "one", _dtype(fn))])


@converts(unary.Rounding)
def _rounding(g, fn, inputs, other):
    mode, decimals = fn.attributes.get("mode", "floor"), fn.attributes.get("decimals", 0)
    x, dtype = inputs[0], _dtype(fn)
    if mode == "trunc":  # sign(x) floor(|x|)
        (a,) = g.node("Floor", g.node("Abs", [x]))
        return g.node("Mul", [g.node("Sign", [x])[0], a])
    op = {"floor": "Floor", "ceil": "Ceil", "round": "Round"}[mode]
    if mode == "round" and decimals:
        scale = g.const(10.0 ** decimals, "scale", dtype)
        (y,) = g.node("Round", g.node("Mul", [x, scale]))
        return g.node("Div", [y, scale])
    return g.node(op, [x])


# ---------------------------------------------------------------------------- movement
def _reshape_target(fn, other) -> list:
    """The Reshape target, with the dimensions that follow the batch written as 0 (copy the
    input's) or -1 (infer), so the file runs at any batch size."""
    shape = [int(s) for s in fn.attributes["shape"]]
    if "shape" not in other:
        return shape
    theirs = [int(s) for s in other["shape"]]
    source = fn.parents[0].shape
    if len(theirs) != len(shape):
        raise ExportError("the reshape's rank changes with the batch size")
    varying = [i for i, (a, b) in enumerate(zip(shape, theirs)) if a != b]
    out = list(shape)
    for i in varying:
        if i < len(source) and source[i] == shape[i] and i == 0:
            out[i] = 0  # the batch dimension, carried over from the input
        elif -1 not in out:
            out[i] = -1
        else:
            raise ExportError(f"the reshape to {tuple(shape)} has several dimensions that change "
                              f"with the batch size")
    return out


@converts(movement.Reshape)
def _reshape(g, fn, inputs, other):
    return g.node("Reshape", [inputs[0], g.ints(_reshape_target(fn, other))])


_reshape.batch_aware = True


@converts(movement.Expand)
def _expand(g, fn, inputs, other):
    shape = [int(s) for s in fn.attributes["shape"]]
    if "shape" in other:  # broadcasting keeps a dimension the input already has: write 1
        source = (1,) * (len(shape) - fn.parents[0].ndim) + tuple(fn.parents[0].shape)
        for i, (a, b) in enumerate(zip(shape, other["shape"])):
            if a != b:
                if source[i] != a:
                    raise ExportError(f"the expand to {tuple(shape)} grows a dimension that "
                                      f"changes with the batch size")
                shape[i] = 1
    return g.node("Expand", [inputs[0], g.ints(shape)])


_expand.batch_aware = True


@converts(movement.Permute)
def _permute(g, fn, inputs, other):
    return g.node("Transpose", inputs, perm=[int(d) for d in fn.dims])


@converts(movement.Cat)
def _cat(g, fn, inputs, other):
    return g.node("Concat", inputs, axis=int(fn.attributes.get("axis", 0)))


@converts(movement.Flip)
def _flip(g, fn, inputs, other):
    dims = [int(d) for d in fn.attributes["dims"]]
    return [g.slice(inputs[0], [-1] * len(dims), [INT64_MIN] * len(dims), dims,
                    [-1] * len(dims))]


@converts(movement.Cast)
def _cast(g, fn, inputs, other):
    from onnx import helper

    to = helper.np_dtype_to_tensor_dtype(np.dtype(fn.attributes["dtype"]))
    return g.node("Cast", inputs, to=int(to))


@converts(movement.Pad)
def _pad(g, fn, inputs, other):
    width = fn.attributes["pad_width"]
    mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
            "circular": "wrap"}[fn.attributes.get("mode", "constant")]
    if mode == "wrap" and g.opset < 19:
        raise ExportError("circular padding needs opset 19 or later")
    pads = [int(lo) for lo, _ in width] + [int(hi) for _, hi in width]
    extra = [g.const(fn.attributes.get("value", 0.0), "value", _dtype(fn))] \
        if mode == "constant" else []
    return g.node("Pad", [inputs[0], g.ints(pads, "pads"), *extra], mode=mode)


@converts(movement.GetItem)
def _getitem(g, fn, inputs, other):
    x, shape = inputs[0], list(fn.parents[0].shape)
    parts = fn.attributes["index"]
    parts = list(parts) if isinstance(parts, tuple) else [parts]
    if Ellipsis in parts:
        at = parts.index(Ellipsis)
        used = sum(p is not None for p in parts if p is not Ellipsis)
        parts[at:at + 1] = [slice(None)] * (len(shape) - used)
    arrays = [p for p in parts if isinstance(p, (np.ndarray, list))]
    if len(arrays) > 1 or any(np.asarray(p).dtype.kind == "b" or np.ndim(p) != 1
                              for p in arrays):
        raise ExportError("indexing with several index arrays, a 2-D one or a boolean mask has no "
                          "ONNX form here (use gather or a mask multiplication)")
    axis, squeeze, starts, ends, axes, steps, unsqueeze = 0, [], [], [], [], [], []
    gathers = []
    for p in parts:
        if p is None:  # a new axis: it reads no input axis
            unsqueeze.append(True)
            continue
        if isinstance(p, slice):
            if p != slice(None):
                step = 1 if p.step is None else int(p.step)
                start = p.start if p.start is not None else (0 if step > 0 else -1)
                end = p.stop if p.stop is not None else (INT64_MAX if step > 0 else INT64_MIN)
                starts.append(int(start))
                ends.append(int(end))
                axes.append(axis)
                steps.append(step)
        elif isinstance(p, (np.ndarray, list)):
            gathers.append((axis, np.asarray(p, dtype=np.int64)))
        else:  # an int: keep the element, drop the axis
            starts.append(int(p))
            ends.append(int(p) + 1 if int(p) != -1 else INT64_MAX)
            axes.append(axis)
            steps.append(1)
            squeeze.append(axis)
        axis += 1
    # apply in an order that keeps the axis numbers of the input: slices, gather, squeeze
    y = x
    if axes:
        y = g.slice(y, starts, ends, axes, steps)
    for at, indices in gathers:
        (y,) = g.node("Gather", [y, g.const(indices, "indices")], axis=at)
    if squeeze:
        y = g.squeeze(y, squeeze)
    if unsqueeze:
        # the None positions were counted among the input's axes; after the squeeze they are
        # the output's positions of the new axes
        kept = _new_axis_positions(parts)
        y = g.unsqueeze(y, kept)
    return [y]


def _new_axis_positions(parts) -> list:
    """Positions of the None entries in the output of x[parts] (ints remove an axis)."""
    positions, out = [], 0
    for p in parts:
        if p is None:
            positions.append(out)
            out += 1
        elif isinstance(p, (slice, np.ndarray, list)):
            out += 1
    return positions


# ---------------------------------------------------------------------------- reductions
@converts(reduce.Sum, reduce.Mean, reduce.Max, reduce.Norm2)
def _reduce(g, fn, inputs, other):
    op = {reduce.Sum: "ReduceSum", reduce.Mean: "ReduceMean", reduce.Norm2: "ReduceL2",
          reduce.Max: "ReduceMin" if fn.attributes.get("minimum") else "ReduceMax"}[type(fn)]
    if not fn.axes:  # a reduction over no axes (a 0-d input): the value itself
        return g.node("Identity", inputs)
    return [g.reduce(op, inputs[0], fn.axes, fn.keepdims)]


@converts(reduce.Prod)
def _prod(g, fn, inputs, other):
    axis = fn.attributes.get("axis")
    axes = range(fn.parents[0].ndim) if axis is None else [axis]
    return [g.reduce("ReduceProd", inputs[0], axes, bool(fn.attributes.get("keepdims")))]


@converts(reduce.Cumsum)
def _cumsum(g, fn, inputs, other):
    return g.node("CumSum", [inputs[0], g.const(np.int64(fn.attributes.get("axis", 0)),
                                                 "axis")])


@converts(reduce.Softmax, reduce.LogSoftmax)
def _softmax(g, fn, inputs, other):
    op = "Softmax" if type(fn) is reduce.Softmax else "LogSoftmax"
    return g.node(op, inputs, axis=int(fn.attributes.get("axis", -1)))


# ---------------------------------------------------------------------------- products
@converts(linalg.MatMul)
def _matmul(g, fn, inputs, other):
    return g.node("MatMul", inputs)


@converts(linalg.Linear)
def _linear(g, fn, inputs, other):
    if fn.parents[0].ndim == 2:
        return g.node("Gemm", inputs, transB=1)
    (wt,) = g.node("Transpose", [inputs[1]], perm=[1, 0])
    (y,) = g.node("MatMul", [inputs[0], wt])
    return g.node("Add", [y, inputs[2]]) if len(inputs) == 3 else [y]


@converts(linalg.Einsum)
def _einsum(g, fn, inputs, other):
    equation = f"{','.join(fn.inputs)}->{fn.output}"
    return g.node("Einsum", inputs, equation=equation)


# ---------------------------------------------------------------------------- conv and pooling
@converts(conv.Conv2d)
def _conv(g, fn, inputs, other):
    a = fn.attributes
    (top, bottom), (left, right) = a.get("padding", ((0, 0), (0, 0)))
    kernel = list(fn.parents[1].shape[2:])
    return g.node("Conv", inputs, kernel_shape=kernel, strides=list(a.get("stride", (1, 1))),
                  pads=[top, left, bottom, right], dilations=list(a.get("dilation", (1, 1))),
                  group=int(a.get("groups", 1)))


def max_pool(g, x: str, kernel, stride, padding, dilation, ceil_mode=False) -> str:
    ph, pw = padding
    return g.node("MaxPool", [x], kernel_shape=list(kernel), strides=list(stride),
                  pads=[ph, pw, ph, pw], dilations=list(dilation),
                  ceil_mode=int(bool(ceil_mode)))[0]


@converts(pool.MaxPool2d)
def _max_pool(g, fn, inputs, other):
    a = fn.attributes
    return [max_pool(g, inputs[0], a["kernel_size"], a["stride"], a.get("padding", (0, 0)),
                     a.get("dilation", (1, 1)), a.get("ceil_mode", False))]


@converts(pool.AvgPool2d)
def _avg_pool(g, fn, inputs, other):
    a = fn.attributes
    kernel, (ph, pw) = a["kernel_size"], a.get("padding", (0, 0))
    divisor = a.get("divisor_override")
    if divisor and divisor != kernel[0] * kernel[1]:
        raise ExportError("avg_pool2d's divisor_override has no ONNX form")
    return g.node("AveragePool", inputs, kernel_shape=list(kernel), strides=list(a["stride"]),
                  pads=[ph, pw, ph, pw], ceil_mode=int(bool(a.get("ceil_mode", False))),
                  count_include_pad=int(bool(a.get("count_include_pad", True))))


@converts(pool.AdaptiveAvgPool2d)
def _adaptive_avg_pool(g, fn, inputs, other):
    (oh, ow), (h, w) = fn.attributes["output_size"], fn.parents[0].shape[2:]
    if (oh, ow) == (1, 1):
        return g.node("GlobalAveragePool", inputs)
    if h % oh == 0 and w % ow == 0:  # equal bins: an ordinary average pool
        kernel = [h // oh, w // ow]
        return g.node("AveragePool", inputs, kernel_shape=kernel, strides=kernel)
    # PyTorch's uneven bins: the mean over a rectangle is two small products, A_h x A_w^T
    (y,) = g.node("MatMul", [inputs[0], g.const(fn.aw.T, "bins_w")])
    return g.node("MatMul", [g.const(fn.ah, "bins_h"), y])


@converts(index.Gather)
def _gather(g, fn, inputs, other):
    where = fn.where[int(fn.attributes["dim"])]
    return g.node("GatherElements", [inputs[0], g.const(np.asarray(where, np.int64),
                                                         "indices")],
                  axis=int(fn.attributes["dim"]))
