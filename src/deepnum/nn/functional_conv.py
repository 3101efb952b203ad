"""Functional convolution, pooling and batch normalisation (re-exported by deepnum.nn.functional).

Arguments and defaults are PyTorch's: ``conv2d(input, weight, bias, stride, padding, dilation,
groups)`` with ``padding`` an int, a pair, ``'same'`` or ``'valid'``; pools take ``kernel_size,
stride=None (= kernel_size), padding``. Inputs are NCHW, or CHW for a single unbatched image.

>>> import deepnum.nn.functional as F
>>> F.max_pool2d(F.relu(F.conv2d(x, w, b, padding=2)), 2)      # LeNet's first stage
"""

from __future__ import annotations

import numbers

import numpy as np

from deepnum import fast
from deepnum.errors import ShapeError
from deepnum.ops import conv as conv_ops
from deepnum.ops import norm as norm_ops
from deepnum.ops import pool as pool_ops
from deepnum.tensor import Tensor

__all__ = ["adaptive_avg_pool2d", "avg_pool1d", "avg_pool2d", "batch_norm", "conv1d", "conv2d",
           "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d"]


def pair(value, name: str = "argument", layer: str = "conv2d") -> tuple[int, int]:
    """5 -> (5, 5); (3, 2) stays; anything else is a ValueError naming the argument."""
    if type(value) is int:  # the usual case first: the ABC checks below cost ~1 us each call
        return value, value
    if type(value) is tuple and len(value) == 2 and type(value[0]) is type(value[1]) is int:
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value), int(value)
    if (isinstance(value, (tuple, list)) and len(value) == 2
            and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in value)):
        return int(value[0]), int(value[1])
    raise ValueError(f"{layer}: {name} must be an int or a pair of ints, got {value!r}")


def conv_padding(padding, kernel, dilation, stride, layer: str = "conv2d"):
    """((top, bottom), (left, right)) from an int, a pair, 'valid' or 'same'.

    'same' keeps the size at stride 1: total d*(k-1) per axis, the odd one on the bottom/right,
    as PyTorch does.
    """
    if padding == "valid":
        return (0, 0), (0, 0)
    if padding == "same":
        if stride != (1, 1):
            raise ValueError(f"{layer}: padding='same' needs stride 1, got stride {stride}")
        totals = [d * (k - 1) for k, d in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    if isinstance(padding, str):
        raise ValueError(f"{layer}: padding must be an int, a pair, 'same' or 'valid', "
                         f"got {padding!r}")
    ph, pw = pair(padding, "padding", layer)
    if ph < 0 or pw < 0:
        raise ValueError(f"{layer}: padding must be non-negative, got {padding!r}")
    return (ph, ph), (pw, pw)


def batch_of(x: Tensor) -> int:
    """N of an (N, C, H, W) input, 1 for an unbatched (C, H, W) one: what the wing's choice
    reads."""
    shape = x.array.shape
    return shape[0] if len(shape) == 4 else 1


def _batched(x: Tensor, spatial: int, layer: str) -> tuple[Tensor, bool]:
    """Accept (N, C, *spatial) or one unbatched (C, *spatial) sample, like PyTorch."""
    if x.ndim == spatial + 1:
        return x.unsqueeze(0), True
    if x.ndim != spatial + 2:
        dims = "N, C, H, W" if spatial == 2 else "N, C, L"
        raise ShapeError(f"{layer}: expected a {spatial + 2}-D input ({dims}), got input of shape "
                         f"{tuple(x.shape)}")
    return x, False


# ---------------------------------------------------------------------------- convolution
def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """out[n, o] = b[o] + sum_c W[o, c] (*) x[n, c]: each of O filters (C/groups x kh x kw) slides
    over the input; one im2col matrix product does every position at once."""
    op = fast.choose(conv_ops.Conv2d, batch=batch_of(input))  # the wing's version, if one fits
    return conv2d_with(op, input, weight, bias, stride, padding, dilation, groups)


def conv2d_with(op, input, weight, bias, stride, padding, dilation, groups, **extra) -> Tensor:
    """conv2d's argument handling and checks around the Function ``op`` (the reference, a speed
    wing's version or a fused one, which take the same arguments)."""
    x, unbatched = _batched(input, 2, "conv2d")
    shape = x.array.shape  # the arrays' shapes: a Tensor's .shape builds a Size each time
    o, cg, kh, kw = weight.array.shape
    stride, dilation = pair(stride, "stride"), pair(dilation, "dilation")
    pads = conv_padding(padding, (kh, kw), dilation, stride)
    if shape[1] != cg * groups:
        raise ShapeError(f"conv2d: weight {weight.array.shape} with groups={groups} expects "
                         f"{cg * groups} input channels, got input of shape {tuple(input.shape)}")
    for axis, size, k, p, d in ((2, "height", kh, pads[0], dilation[0]),
                                (3, "width", kw, pads[1], dilation[1])):
        if shape[axis] + p[0] + p[1] < d * (k - 1) + 1:
            raise ShapeError(f"conv2d: input {size} {shape[axis]} (padded "
                             f"{shape[axis] + sum(p)}) is smaller than the kernel's reach "
                             f"{d * (k - 1) + 1}, "
                             f"got input of shape {tuple(input.shape)}")
    args = (x, weight) if bias is None else (x, weight, bias)
    out = op.apply(*args, stride=stride, padding=pads, dilation=dilation, groups=groups, **extra)
    return out.squeeze(0) if unbatched else out


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution over (N, C, L): a conv2d on a height-1 image (the gradient comes free)."""
    x, unbatched = _batched(input, 1, "conv1d")
    out = conv2d(x.unsqueeze(2), weight.unsqueeze(2), bias, _height_one(stride, "stride", 1),
                 _height_one(padding, "padding", 0), _height_one(dilation, "dilation", 1), groups)
    out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


def _height_one(value, name: str, height_value: int, layer: str = "conv1d"):
    """A 1-D argument (k or (k,)) as the 2-D one of a height-1 image: (height_value, k)."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, str):
        return value
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise ValueError(f"{layer}: {name} must be an int, got {value!r}")
    return height_value, int(value)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """The transposed convolution (conv2d's input gradient as a layer): each input pixel adds
    x[n, c, y, x] * W[c, o] to the output window at (s*y - p, s*x - p). ``weight`` is
    (C_in, C_out/groups, kH, kW); output size (H-1)s - 2p + d(k-1) + output_padding + 1.
    Arguments in PyTorch's order (groups before dilation)."""
    op = fast.choose(conv_ops.ConvTranspose2d, batch=batch_of(input))
    x, unbatched = _batched(input, 2, "conv_transpose2d")
    stride, dilation, padding, extra = transpose_options(
        weight, x.shape, stride, padding, output_padding, groups, dilation, "conv_transpose2d")
    args = (x, weight) if bias is None else (x, weight, bias)
    out = op.apply(*args, stride=stride, padding=padding, output_padding=extra,
                   dilation=dilation, groups=groups)
    return out.squeeze(0) if unbatched else out


def transpose_options(weight, x_shape, stride, padding, output_padding, groups, dilation, layer):
    """The checks PyTorch makes (in its words) and the op's arguments: stride, dilation,
    ((top, bottom), (left, right)) padding and the output_padding pair."""
    stride, dilation = pair(stride, "stride", layer), pair(dilation, "dilation", layer)
    if isinstance(padding, str):
        raise ValueError(f"{layer}: padding must be an int or a pair of ints, got {padding!r}")
    padding, extra = pair(padding, "padding", layer), pair(output_padding, "output_padding", layer)
    if min(stride + dilation) < 1 or min(padding + extra) < 0:
        raise ValueError(f"{layer}: stride and dilation must be positive, padding and "
                         f"output_padding non-negative, got stride={stride}, dilation={dilation}, "
                         f"padding={padding}, output_padding={extra}")
    if any(e >= max(s, d) for e, s, d in zip(extra, stride, dilation)):
        raise RuntimeError(f"{layer}: output padding must be smaller than either stride or "
                           f"dilation, but got output_padding={extra}, stride={stride}, "
                           f"dilation={dilation}")
    if weight.ndim != 4 or weight.shape[0] % groups:
        raise ShapeError(f"{layer}: weight of shape {tuple(weight.shape)} with groups={groups} "
                         f"must be (C_in, C_out/groups, kH, kW) with C_in divisible by groups")
    if x_shape[1] != weight.shape[0]:
        raise ShapeError(f"{layer}: weight {tuple(weight.shape)} expects {weight.shape[0]} input "
                         f"channels, got input of shape {tuple(x_shape)}")
    for axis in (0, 1):
        size = conv_ops.reach(x_shape[2 + axis], weight.shape[2 + axis], stride[axis],
                              dilation[axis]) - 2 * padding[axis] + extra[axis]
        if size < 1:
            raise ShapeError(f"{layer}: padding {padding} leaves an output of size {size} for "
                             f"input of shape {tuple(x_shape)}")
    return stride, dilation, ((padding[0],) * 2, (padding[1],) * 2), extra


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1,
                     padding=0, output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """1-D transposed convolution over (N, C, L): conv_transpose2d on a height-1 image."""
    x, unbatched = _batched(input, 1, "conv_transpose1d")
    one = {name: _height_one(value, name, fill, "conv_transpose1d") for name, value, fill in
           (("stride", stride, 1), ("padding", padding, 0),
            ("output_padding", output_padding, 0), ("dilation", dilation, 1))}
    out = conv_transpose2d(x.unsqueeze(2), weight.unsqueeze(2), bias, groups=groups, **one)
    out = out.squeeze(2)
    return out.squeeze(0) if unbatched else out


# ---------------------------------------------------------------------------- pooling
def pool_args(kernel_size, stride, padding, layer):
    kernel = pair(kernel_size, "kernel_size", layer)
    stride = kernel if stride is None or stride == () else pair(stride, "stride", layer)
    return kernel, stride, pair(padding, "padding", layer)


def _no_indices(return_indices: bool, name: str) -> None:
    if return_indices:
        raise ValueError(f"{name}: return_indices=True is not supported")


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """Keep the largest value of each f x f window (stride s; default s = f). Output size
    floor((n + 2p - d(f-1) - 1) / s) + 1, or ceil with ``ceil_mode`` (the last window must start
    inside the input or its left padding)."""
    _no_indices(return_indices, "max_pool2d")
    x, unbatched = _batched(input, 2, "max_pool2d")
    kernel, stride, padding = pool_args(kernel_size, stride, padding, "max_pool2d")
    op = fast.choose(pool_ops.MaxPool2d, batch=x.array.shape[0])
    out = op.apply(x, kernel_size=kernel, stride=stride, padding=padding,
                   dilation=pair(dilation, "dilation", "max_pool2d"), ceil_mode=bool(ceil_mode))
    return out.squeeze(0) if unbatched else out


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override=None) -> Tensor:
    """Mean of each f x f window (stride s; default s = f); sizes as :func:`max_pool2d`'s. The
    divisor is f*f (``count_include_pad``, the default, clipped to the padded input where a
    ceil-mode window hangs over), the real pixels of the window, or ``divisor_override``."""
    x, unbatched = _batched(input, 2, "avg_pool2d")
    kernel, stride, padding = pool_args(kernel_size, stride, padding, "avg_pool2d")
    out = pool_ops.AvgPool2d.apply(x, kernel_size=kernel, stride=stride, padding=padding,
                                   ceil_mode=bool(ceil_mode),
                                   count_include_pad=count_include_pad,
                                   divisor_override=divisor_override)
    return out.squeeze(0) if unbatched else out


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Average into an output_size grid whatever the input's size (PyTorch's bins)."""
    x, unbatched = _batched(input, 2, "adaptive_avg_pool2d")
    if isinstance(output_size, (tuple, list)):
        output_size = tuple(x.shape[2 + i] if s is None else s for i, s in enumerate(output_size))
    oh, ow = pair(output_size, "output_size", "adaptive_avg_pool2d")
    out = pool_ops.AdaptiveAvgPool2d.apply(x, output_size=(oh, ow))
    return out.squeeze(0) if unbatched else out


def _pool1d(op, input, kernel_size, stride, padding, name, **kw):
    """A 1-D pool over (N, C, L) as the 2-D one of a height-1 image."""
    x, unbatched = _batched(input, 1, name)
    k = pair(kernel_size, "kernel_size", name)[0]
    s = k if stride is None else pair(stride, "stride", name)[0]
    p = pair(padding, "padding", name)[0]
    out = op(x.unsqueeze(2), (1, k), (1, s), (0, p), **kw).squeeze(2)
    return out.squeeze(0) if unbatched else out


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    _no_indices(return_indices, "max_pool1d")
    return _pool1d(max_pool2d, input, kernel_size, stride, padding, "max_pool1d",
                   dilation=(1, pair(dilation, "dilation", "max_pool1d")[0]),
                   ceil_mode=ceil_mode)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    return _pool1d(avg_pool2d, input, kernel_size, stride, padding, "avg_pool1d",
                   ceil_mode=ceil_mode, count_include_pad=count_include_pad)


# ---------------------------------------------------------------------------- batch norm
def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float | None = 0.1, eps: float = 1e-5,
               num_batches_tracked: Tensor | None = None) -> Tensor:
    """y = gamma (x - mu) / sqrt(var + eps) + beta over (N, C, *), per channel.

    In training, mu and var are the batch's (biased var) and the running statistics move towards
    them by ``momentum`` (unbiased var; ``momentum=None`` gives a cumulative average, as PyTorch).
    In evaluation the running statistics are used.
    """
    c = input.shape[1] if input.ndim > 1 else -1
    if input.ndim < 2:
        raise ShapeError(f"batch_norm: expected input of shape (N, C, *), got input of shape "
                         f"{tuple(input.shape)}")
    if training or running_mean is None:
        if input.numel() // c <= 1:
            raise ShapeError(f"batch_norm: expected more than 1 value per channel when training, "
                             f"got input of shape {tuple(input.shape)}")
        if training and num_batches_tracked is not None:
            num_batches_tracked.array += 1
        if momentum is None and num_batches_tracked is not None:
            momentum = 1.0 / max(int(num_batches_tracked.array), 1)
        update = training and running_mean is not None
        if (weight is None) != (bias is None):  # the fused op takes both or neither
            like = weight if weight is not None else bias
            fill = np.zeros if bias is None else np.ones
            constant = Tensor._wrap(fill(like.shape, dtype=like.array.dtype))
            weight, bias = (weight, constant) if bias is None else (constant, bias)
        args = (input,) if weight is None else (input, weight, bias)
        return fast.choose(norm_ops.BatchNorm, batch=input.shape[0]).apply(
            *args, eps=eps, momentum=0.1 if momentum is None else momentum,
            running_mean=running_mean.array if update else None,
            running_var=running_var.array if update and running_var is not None else None)
    if (weight is None) != (bias is None) or any(
            t.array.dtype != input.array.dtype for t in (weight, bias) if t is not None):
        return _batch_norm_eval_composed(input, running_mean, running_var, weight, bias, eps)
    args = (input,) if weight is None else (input, weight, bias)
    op = fast.choose(norm_ops.BatchNormEval, batch=input.shape[0])
    return op.apply(*args, running_mean=running_mean.array, running_var=running_var.array,
                    eps=eps)


def _batch_norm_eval_composed(input, running_mean, running_var, weight, bias, eps) -> Tensor:
    """Evaluation-mode batch norm from tensor operations, for what the fused op does not take
    (only one of weight and bias, or parameters of another dtype than the input: promoted)."""
    shape = (1, input.shape[1]) + (1,) * (input.ndim - 2)
    dtype = input.dtype
    invstd = (1.0 / np.sqrt(running_var.array + eps)).astype(dtype).reshape(shape)
    mean = running_mean.array.astype(dtype).reshape(shape)
    out = (input - Tensor._wrap(mean)) * Tensor._wrap(invstd)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out
