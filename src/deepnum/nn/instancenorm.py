"""Instance normalisation: each channel of each sample standardised over its positions alone
(Ulyanov et al. 2016; the style-transfer networks' normalisation):

    y[n, c] = gamma[c] (x[n, c] - mu[n, c]) / sqrt(var[n, c] + eps) + beta[c]

PyTorch's defaults: no affine parameters and no running statistics. With
``track_running_stats=True`` the running estimates move towards the batch's average
per-instance statistics (the variance unbiased) and evaluation uses them, as in PyTorch.

>>> norm = nn.InstanceNorm2d(3, affine=True)
>>> norm(dn.randn(4, 3, 32, 32)).shape         # (4, 3, 32, 32)
"""

from __future__ import annotations

import warnings

import numpy as np

from deepnum.errors import ShapeError
from deepnum.nn import functional as F
from deepnum.nn.normalization import _BatchNorm, channel_affine
from deepnum.ops import layer_norm as layer_norm_ops
from deepnum.tensor import Tensor


def instance_norm(input: Tensor, running_mean: Tensor | None = None,
                  running_var: Tensor | None = None, weight: Tensor | None = None,
                  bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Instance norm of (N, C, *): with ``use_input_stats`` each (n, c) plane's own mean and
    (biased) variance, updating the running estimates in place when they are given; else the
    running estimates."""
    if input.ndim < 3:
        raise ShapeError(f"instance_norm: expected input of shape (N, C, *), got input of "
                         f"shape {tuple(input.shape)}")
    n, c = input.shape[:2]
    if use_input_stats:
        planes = input.reshape(n, c, -1)
        if planes.shape[-1] <= 1:
            raise ShapeError(f"instance_norm: expected more than 1 spatial element when "
                             f"training, got input of shape {tuple(input.shape)}")
        out = layer_norm_ops.LayerNorm.apply(planes, dims=1, eps=eps, affine=(False, False))
        out = out.reshape(input.shape)
        if running_mean is not None:
            values = planes.array
            mean = values.mean(axis=(0, 2))  # the batch's average of the per-instance statistics
            var = values.var(axis=2, ddof=1).mean(axis=0)
            running_mean.array *= 1 - momentum
            running_mean.array += (momentum * mean).astype(running_mean.array.dtype)
            if running_var is not None:
                running_var.array *= 1 - momentum
                running_var.array += (momentum * var).astype(running_var.array.dtype)
    else:
        shape = (1, c) + (1,) * (input.ndim - 2)
        dtype = input.array.dtype
        mean = Tensor._wrap(running_mean.array.astype(dtype).reshape(shape))
        invstd = Tensor._wrap((1 / np.sqrt(running_var.array + eps)).astype(dtype).reshape(shape))
        out = (input - mean) * invstd
    return channel_affine(out, weight, bias)


class _InstanceNorm(_BatchNorm):
    """The buffers and parameters of batch norm (PyTorch's names), with instance norm's
    defaults, input checks and forward."""

    dims = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=None, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device, dtype,
                         bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        spatial = ("L",) if self.dims == 1 else ("H", "W")
        if x.ndim not in (self.dims + 1, self.dims + 2):
            raise F.shape_error(self, f"input of shape (N, C, {', '.join(spatial)}) or "
                                      f"(C, {', '.join(spatial)})", x.shape)
        unbatched = x.ndim == self.dims + 1
        if unbatched:
            x = x.unsqueeze(0)
        if x.shape[1] != self.num_features:
            if self.affine or self.track_running_stats:
                raise F.shape_error(self, f"input with C = num_features = {self.num_features}",
                                    x.shape)
            warnings.warn(f"input's size at dim=1 ({x.shape[1]}) does not match num_features "
                          f"({self.num_features}); it is not used because affine=False",
                          UserWarning, stacklevel=2)
        use_input_stats = self.training or not self.track_running_stats
        # PyTorch passes momentum None as 0.0 here (no cumulative average for instance norm)
        momentum = self.momentum if self.momentum is not None else 0.0
        out = instance_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            use_input_stats, momentum, self.eps)
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance norm over (N, C, L) or (C, L): each channel of each sample over its positions.

    >>> nn.InstanceNorm1d(8)(dn.randn(2, 8, 50)).shape      # (2, 8, 50)
    """

    dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance norm over (N, C, H, W) or (C, H, W): each feature map of each sample alone.

    >>> nn.InstanceNorm2d(3, affine=True)(dn.randn(4, 3, 16, 16)).shape   # (4, 3, 16, 16)
    """

    dims = 2
