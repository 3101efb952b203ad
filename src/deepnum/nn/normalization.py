"""Batch normalisation: BatchNorm1d and BatchNorm2d, PyTorch's arguments, buffers and update rule.

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

import numpy as np

from deepnum.creation import ones, zeros
from deepnum.nn import functional as F
from deepnum.nn._validate import non_negative, positive_int
from deepnum.nn.module import Module, Parameter
from deepnum.tensor import Tensor


class _BatchNorm(Module):
    expected = "(N, C) or (N, C, L)"
    ndims = (2, 3)

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None, dtype=None):
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
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype, device=device))
            self.bias = Parameter(zeros(num_features, dtype=dtype, device=device))
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
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


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
