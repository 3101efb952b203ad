"""Dropout: a cure for overfitting that trains an ensemble of thinned networks at once.

``Dropout`` drops single values; ``Dropout1d``/``Dropout2d`` drop whole channels (neighbouring
pixels of a feature map are correlated, so dropping single ones barely regularises a
convolution); ``AlphaDropout`` keeps the mean and variance of SELU activations.
"""

from __future__ import annotations

import math
import warnings

from deepnum.errors import ShapeError
from deepnum.nn import functional as F
from deepnum.nn._validate import probability
from deepnum.nn.module import Module
from deepnum.random import get_rng
from deepnum.tensor import Tensor


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) (or unbatched (C, L)) with probability p, scale the rest
    by 1/(1-p)."""
    if input.ndim not in (2, 3):
        raise ShapeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D "
                         f"input of shape {tuple(input.shape)}")
    return F.dropout_mask(input, p, training, inplace, input.shape[:-1] + (1,), "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True,
              inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) with probability p, scale the rest by 1/(1-p). A 3-D
    input is taken as (N, C, L), with PyTorch's warning."""
    if input.ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                      "1D dropout behavior is desired - input is interpreted as shape (N, C, L), "
                      "where C is the channel dim. To maintain the 1D channel-wise dropout "
                      "behavior, please switch to using dropout1d instead.", UserWarning,
                      stacklevel=2)
    elif input.ndim != 4:
        warnings.warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is "
                      f"deprecated; dropout2d exists to provide channel-wise dropout on inputs "
                      f"with 2 spatial dimensions, a channel dimension, and an optional batch "
                      f"dimension (i.e. 3D or 4D inputs).", UserWarning, stacklevel=2)
    shape = input.shape[:2] + (1,) * (input.ndim - 2)
    return F.dropout_mask(input, p, training, inplace, shape, "dropout2d")


# SELU's negative saturation, -scale * alpha: where a dropped SELU activation is set
ALPHA_PRIME = F.SELU_SCALE * F.SELU_ALPHA


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False,
                  inplace: bool = False) -> Tensor:
    """Alpha dropout (Klambauer et al. 2017): a dropped value is set to SELU's saturation
    -alpha' instead of 0, then y = a x' + b with a = ((1 - p)(1 + p alpha'^2))^(-1/2) and
    b = a alpha' p, so that inputs of mean 0 and variance 1 keep them. (PyTorch's default
    ``training=False`` for the function.)"""
    if not 0 <= p <= 1:
        raise ValueError(f"alpha_dropout: p must be in [0, 1], got {p!r}")
    if not training or p == 0:
        return input
    if p == 1:
        return input * 0
    a = 1 / math.sqrt((ALPHA_PRIME**2 * p + 1) * (1 - p))
    keep = get_rng().random(input.shape) >= p
    dtype = input.array.dtype
    scale = Tensor._wrap((keep * a).astype(dtype))
    # kept: a x + a alpha' p; dropped: -a alpha' + a alpha' p (PyTorch's noise and shift)
    shift = Tensor._wrap(((keep - 1.0) * ALPHA_PRIME * a + ALPHA_PRIME * a * p).astype(dtype))
    compute = lambda x: x * scale + shift  # noqa: E731
    return F.in_place(input, compute, reads_input=False) if inplace else compute(input)


class _DropoutNd(Module):
    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        self.p = probability(type(self).__name__, "p", p)
        self.inplace = bool(inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    """Zero each input with probability ``p`` during training; identity in eval mode.

    deepnum uses inverted dropout: kept inputs are scaled by 1/(1-p) while training, which in
    expectation equals the lecture's rule of scaling the weights at test time,
    W_test = (1-p) W_train.

    >>> drop = nn.Dropout(p=0.2)
    >>> drop.eval(); drop(x) is x         # True
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zero whole channels of (N, C, L) with probability ``p`` in training (y = m x / (1-p), one
    m in {0, 1} per channel).

    >>> nn.Dropout1d(0.2)(dn.randn(8, 16, 100)).shape     # (8, 16, 100)
    """

    def forward(self, x: Tensor) -> Tensor:
        return dropout1d(x, self.p, self.training, self.inplace)


class Dropout2d(_DropoutNd):
    """Zero whole channels of (N, C, H, W) with probability ``p`` in training (y = m x / (1-p),
    one m in {0, 1} per feature map).

    >>> nn.Dropout2d(0.2)(dn.randn(8, 16, 10, 10)).shape  # (8, 16, 10, 10)
    """

    def forward(self, x: Tensor) -> Tensor:
        return dropout2d(x, self.p, self.training, self.inplace)


class AlphaDropout(_DropoutNd):
    """Dropout for SELU networks: y = a (m x + (1 - m)(-alpha')) + b keeps mean 0 and variance
    1 (see :func:`alpha_dropout`).

    >>> nn.Sequential(nn.Linear(64, 64), nn.SELU(), nn.AlphaDropout(0.1))
    """

    def forward(self, x: Tensor) -> Tensor:
        return alpha_dropout(x, self.p, self.training, self.inplace)

