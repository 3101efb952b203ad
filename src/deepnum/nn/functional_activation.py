"""More activations (re-exported by :mod:`deepnum.nn.functional`), each composed from primitives so
its gradient and double backward come free; ``inplace=True`` where PyTorch has it.

Piecewise functions pick their branch with ``where`` on the same comparisons as PyTorch's own
backward, so the gradient at a kink (x = 0, x = +-3, x = min_val...) is PyTorch's too.

>>> F.gelu(x), F.gelu(x, approximate="tanh"), F.silu(x), F.hardtanh(x, -2, 2, inplace=True)
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.errors import ShapeError
from deepnum.functions import where
from deepnum.tensor import Tensor

__all__ = ["celu", "gelu", "hardsigmoid", "hardswish", "hardtanh", "logsigmoid", "mish",
           "prelu", "relu6", "silu", "softsign", "tanhshrink", "threshold"]


def _maybe_in_place(x: Tensor, inplace: bool, compute) -> Tensor:
    if inplace:
        from deepnum.nn.functional import in_place

        return in_place(x, compute)
    return compute(x)


def _constant(value, like: Tensor) -> Tensor:
    return Tensor._wrap(np.asarray(value, dtype=like.array.dtype))


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """GELU(z) = z Phi(z) = z (1 + erf(z / sqrt 2)) / 2, Phi the standard normal CDF; with
    ``approximate='tanh'``: z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) / 2 (Hendrycks & Gimpel)."""
    if approximate == "none":
        return input * ((input * (1 / math.sqrt(2))).erf() + 1) * 0.5
    if approximate == "tanh":
        inner = (input + input * input * input * 0.044715) * math.sqrt(2 / math.pi)
        return input * (inner.tanh() + 1) * 0.5
    raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """SiLU(z) = z sigma(z) (the swish of Ramachandran et al.)."""
    return _maybe_in_place(input, inplace, lambda x: x * x.sigmoid())


def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """Mish(z) = z tanh(softplus(z)) (Misra 2019)."""
    from deepnum.nn.functional import softplus

    return _maybe_in_place(input, inplace, lambda x: x * softplus(x).tanh())


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0,
             inplace: bool = False) -> Tensor:
    """Hardtanh(z) = min_val if z < min_val, max_val if z > max_val, else z; the gradient passes
    strictly between the two (as PyTorch's)."""
    if min_val > max_val:
        raise ValueError(f"hardtanh: min_val ({min_val}) cannot be greater than max_val "
                         f"({max_val})")

    def compute(x):
        inside = (x.array > min_val) & (x.array < max_val)
        clipped = np.clip(x.array, min_val, max_val).astype(x.array.dtype, copy=False)
        return where(inside, x, Tensor._wrap(clipped))

    return _maybe_in_place(input, inplace, compute)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """ReLU6(z) = min(max(0, z), 6) (MobileNet's): hardtanh(z, 0, 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """Hardsigmoid(z) = 0 if z <= -3, 1 if z >= 3, else z/6 + 1/2 (a piecewise-linear sigmoid)."""
    return _maybe_in_place(input, inplace, lambda x: hardtanh(x * (1 / 6) + 0.5, 0.0, 1.0))


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """Hardswish(z) = 0 if z <= -3, z if z >= 3, else z (z + 3) / 6 (MobileNetV3's)."""

    def compute(x):
        middle = x * (x + 3) * (1 / 6)
        return where(x.array <= -3, _constant(0, x), where(x.array >= 3, x, middle))

    return _maybe_in_place(input, inplace, compute)


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """Threshold(z) = z if z > threshold else value."""
    return _maybe_in_place(input, inplace,
                           lambda x: where(x.array > threshold, x, _constant(value, x)))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """CELU(z) = max(0, z) + min(0, alpha (e^(z/alpha) - 1)) (Barron 2017): ELU made
    continuously differentiable for any alpha."""
    if alpha == 0:
        raise ValueError("celu: alpha cannot be 0")

    def compute(x):
        negative = ((x.clip(max=0) * (1 / alpha)).exp() - 1) * alpha  # clip: no overflow
        return where(x.array > 0, x, negative)

    return _maybe_in_place(input, inplace, compute)


def logsigmoid(input: Tensor) -> Tensor:
    """LogSigmoid(z) = log sigma(z) = -softplus(-z), stable for any z (never log 0)."""
    from deepnum.nn.functional import softplus

    return -softplus(-input, threshold=float("inf"))


def softsign(input: Tensor) -> Tensor:
    """Softsign(z) = z / (1 + |z|)."""
    return input / (input.abs() + 1)


def tanhshrink(input: Tensor) -> Tensor:
    """Tanhshrink(z) = z - tanh(z)."""
    return input - input.tanh()


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """PReLU(z) = z if z > 0 else a z, with a learned slope a per channel (axis 1; a 1-D input
    has one channel, as in PyTorch) or one shared by all (He et al. 2015)."""
    a = weight
    if weight.numel() != 1:
        channels = input.shape[1] if input.ndim >= 2 else 1
        if weight.ndim != 1 or weight.shape[0] != channels:
            raise ShapeError(f"prelu: weight of shape {tuple(weight.shape)} needs "
                             f"{channels} channels, got input of shape {tuple(input.shape)}")
        if input.ndim >= 2:
            a = weight.reshape((1, channels) + (1,) * (input.ndim - 2))
    elif weight.ndim:
        a = weight.reshape(())
    return where(input.array > 0, input, input * a)
