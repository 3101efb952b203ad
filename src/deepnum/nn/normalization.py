"""Normalisation layers: BatchNorm1d and BatchNorm2d (PyTorch's arguments, buffers and update
rule), LayerNorm and GroupNorm (InstanceNorm is in :mod:`deepnum.nn.instancenorm`).

Each channel is normalised with the mini-batch's mean and variance, then scaled and shifted by two
learned per-channel parameters:

    x_hat = (x - mu_B) / sqrt(var_B + eps),    y = gamma * x_hat + beta

In training mode mu_B and var_B are the batch's (biased variance) and the running estimates move
towards them: running <- (1 - momentum) * running + momentum * batch_stat (the variance unbiased,
times m / (m - 1)). In evaluation mode the running estimates are used, so one sample's output does
not depend on the others. Buffers ``running_mean``, ``running_var``, ``num_batches_tracked`` and
parameters ``weight`` (gamma), ``bias`` (beta) have PyTorch's names, so its state dicts load.

>>> bn = nn.BatchNorm2d(16)
>>> bn(dn.randn(8, 16, 10, 10)).shape          # (8, 16, 10, 10)
"""

from __future__ import annotations

import numbers

import numpy as np

from deepnum.creation import ones, zeros
from deepnum.errors import ShapeError
from deepnum.nn import functional as F
from deepnum.nn._validate import non_negative, positive_int
from deepnum.nn.module import Module, Parameter
from deepnum.ops import layer_norm as layer_norm_ops
from deepnum.tensor import Tensor


class _BatchNorm(Module):
    expected = "(N, C) or (N, C, L)"
    ndims = (2, 3)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None,
                 *, bias: bool = True):
        super().__init__()
        name = type(self).__name__
        self.num_features = positive_int(name, "num_features", num_features)
        self.eps = non_negative(name, "eps", eps)
        if eps == 0:
            raise ValueError(f"{name}: eps must be positive (it keeps 1/sqrt(var + eps) finite), "
                             f"got {eps!r}")
        if momentum is not None and not (isinstance(momentum, (int, float))
                                         and 0 <= momentum <= 1):
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        self.momentum = None if momentum is None else float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        self.use_bias = bool(bias) and self.affine  # PyTorch 2.13's keyword-only bias=
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype, device=device))
            self.register_parameter("bias", Parameter(zeros(num_features, dtype=dtype,
                                                            device=device)) if bias else None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(num_features, dtype=dtype, device=device))
            self.register_buffer("num_batches_tracked", Tensor(np.array(0, dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.array[...] = 0
            self.running_var.array[...] = 1
            self.num_batches_tracked.array[...] = 0

    def reset_parameters(self) -> None:
        """gamma = 1, beta = 0: the layer starts as a pure standardisation."""
        self.reset_running_stats()
        if self.affine:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in self.ndims or x.shape[1] != self.num_features:
            raise F.shape_error(self, f"input of shape {self.expected} with "
                                      f"C = num_features = {self.num_features}", x.shape)
        use_batch_stats = self.training or not self.track_running_stats
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=use_batch_stats, momentum=self.momentum, eps=self.eps,
                            num_batches_tracked=self.num_batches_tracked)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.use_bias}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) (after a Linear layer) or (N, C, L) (after a Conv1d).

    >>> bn = nn.BatchNorm1d(120)
    >>> bn(dn.randn(32, 120)).shape                # (32, 120)
    """

    expected = "(N, C) or (N, C, L)"
    ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm over (N, C, H, W), per channel: statistics over N, H and W.

    >>> bn = nn.BatchNorm2d(6)
    >>> bn(dn.randn(8, 6, 28, 28)).shape           # (8, 6, 28, 28)
    """

    expected = "(N, C, H, W)"
    ndims = (4,)


# ---------------------------------------------------------------------------- layer and group
def _positive_eps(name: str, eps) -> float:
    eps = non_negative(name, "eps", eps)
    if eps == 0:
        raise ValueError(f"{name}: eps must be positive (it keeps 1/sqrt(var + eps) finite), "
                         f"got {eps!r}")
    return eps


def _shape_tuple(shape) -> tuple:
    return (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(s) for s in shape)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """y = gamma (x - mu) / sqrt(var + eps) + beta, mu and var (biased) over the last
    len(normalized_shape) axes of each sample, which must be ``normalized_shape``."""
    shape = _shape_tuple(normalized_shape)
    if input.ndim < len(shape) or tuple(input.shape[input.ndim - len(shape):]) != shape:
        raise ShapeError(f"layer_norm: normalized_shape={list(shape)} expects input of shape "
                         f"[*, {', '.join(map(str, shape))}], got input of shape "
                         f"{tuple(input.shape)}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p.shape) != shape:
            raise ShapeError(f"layer_norm: {name} of shape {tuple(p.shape)} must have "
                             f"normalized_shape {shape}")
    params = [p for p in (weight, bias) if p is not None]
    return layer_norm_ops.LayerNorm.apply(input, *params, dims=len(shape), eps=eps,
                                          affine=(weight is not None, bias is not None))


def channel_affine(out: Tensor, weight: Tensor | None, bias: Tensor | None) -> Tensor:
    """out * gamma[c] + beta[c] over axis 1 of (N, C, *)."""
    shape = (1, out.shape[1]) + (1,) * (out.ndim - 2)
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Split the C channels of (N, C, *) into ``num_groups`` groups and normalise each group of
    each sample over its channels and positions (Wu & He 2018), then gamma[c] x + beta[c]."""
    if input.ndim < 2 or input.shape[1] % num_groups:
        raise ShapeError(f"group_norm: expected input of shape (N, C, *) with C divisible by "
                         f"num_groups={num_groups}, got input of shape {tuple(input.shape)}")
    grouped = input.reshape(input.shape[0], num_groups, -1)
    out = layer_norm_ops.LayerNorm.apply(grouped, dims=1, eps=eps, affine=(False, False))
    return channel_affine(out.reshape(input.shape), weight, bias)


class LayerNorm(Module):
    """Layer normalisation (Ba et al. 2016): each sample (each token) is standardised over its
    last axes, then scaled and shifted by learned gamma (``weight``) and beta (``bias``):

        y = gamma (x - mu) / sqrt(var + eps) + beta,   mu, var over ``normalized_shape``

    The same in training and evaluation (no running statistics).

    >>> norm = nn.LayerNorm(512)
    >>> norm(dn.randn(8, 20, 512)).shape           # (8, 20, 512)
    """

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=None):
        super().__init__()
        shape = _shape_tuple(normalized_shape)
        for size in shape:
            positive_int("LayerNorm", "normalized_shape", size)
        self.normalized_shape, self.eps = shape, _positive_eps("LayerNorm", eps)
        self.elementwise_affine = bool(elementwise_affine)
        factory = dict(dtype=dtype, device=device)
        if elementwise_affine:
            self.weight = Parameter(ones(shape, **factory))
            self.register_parameter("bias", Parameter(zeros(shape, **factory)) if bias else None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        """gamma = 1, beta = 0."""
        if self.weight is not None:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        shape = self.normalized_shape
        if x.ndim < len(shape) or tuple(x.shape[x.ndim - len(shape):]) != shape:
            raise F.shape_error(self, f"input of shape (*, {', '.join(map(str, shape))})",
                                x.shape)
        return layer_norm(x, shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}")


class GroupNorm(Module):
    """Group normalisation: the channels split into ``num_groups`` groups, each group of each
    sample standardised over its channels and positions, then gamma[c] x + beta[c]. Batch-size
    independent (GroupNorm(1, C) normalises all channels together, GroupNorm(C, C) each alone).

    >>> norm = nn.GroupNorm(4, 16)
    >>> norm(dn.randn(2, 16, 8, 8)).shape          # (2, 16, 8, 8)
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=None, *, bias: bool = True):
        super().__init__()
        self.num_groups = positive_int("GroupNorm", "num_groups", num_groups)
        self.num_channels = positive_int("GroupNorm", "num_channels", num_channels)
        if num_channels % num_groups:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.eps, self.affine = _positive_eps("GroupNorm", eps), bool(affine)
        self.use_bias = bool(bias) and self.affine
        factory = dict(dtype=dtype, device=device)
        if affine:
            self.weight = Parameter(ones(num_channels, **factory))
            self.register_parameter("bias", Parameter(zeros(num_channels, **factory))
                                    if bias else None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def reset_parameters(self) -> None:
        if self.affine:
            self.weight.array[...] = 1
        if self.bias is not None:
            self.bias.array[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise F.shape_error(self, f"input of shape (N, {self.num_channels}, *)", x.shape)
        return group_norm(x, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}, "
                f"bias={self.use_bias}")
