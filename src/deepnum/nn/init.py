"""Weight initialisers, in place on a Parameter's data, with PyTorch's formulas and defaults.

Glorot/Xavier keeps the variance of activations and gradients equal across layers for tanh/sigmoid:
Var(W) = 2 / (fan_in + fan_out). He/Kaiming does it for ReLU: Var(W) = 2 / fan_in.

>>> w = nn.Parameter(dn.zeros(256, 784))
>>> nn.init.kaiming_uniform_(w, nonlinearity="relu")
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import statistics

import numpy as np

from deepnum.random import get_rng
from deepnum.tensor import Tensor

_GAINS = {"linear": 1.0, "identity": 1.0, "sigmoid": 1.0, "conv1d": 1.0, "conv2d": 1.0,
          "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The factor by which a nonlinearity shrinks the standard deviation (torch's table)."""
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity not in _GAINS:
        raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; "
                         f"known: {sorted(_GAINS) + ['leaky_relu']}")
    return _GAINS[nonlinearity]


def _fans(t: Tensor) -> tuple[int, int]:
    """fan_in, fan_out of a weight laid out (out, in, *kernel) as in PyTorch."""
    if t.ndim < 2:
        raise ValueError(f"fan in/out need a weight of at least 2 dimensions, got shape {t.shape}")
    receptive = int(np.prod(t.shape[2:])) if t.ndim > 2 else 1
    return t.shape[1] * receptive, t.shape[0] * receptive


def _fill(t: Tensor, values: np.ndarray) -> Tensor:
    t.array[...] = values
    return t


# Inside skipped() (nn.utils.skip_init) every initialiser here leaves its tensor as allocated.
_skipping = contextvars.ContextVar("skip_init", default=False)


@contextlib.contextmanager
def skipped():
    """Within the block, the initialisers of this module do nothing (see nn.utils.skip_init)."""
    token = _skipping.set(True)
    try:
        yield
    finally:
        _skipping.reset(token)


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0) -> Tensor:
    if _skipping.get():
        return t
    return _fill(t, get_rng().uniform(a, b, size=t.shape))


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0) -> Tensor:
    if _skipping.get():
        return t
    return _fill(t, get_rng().normal(mean, std, size=t.shape))


def trunc_normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0) -> Tensor:
    """N(mean, std^2) restricted to [a, b] (bounds are values, not multiples of std; PyTorch's
    defaults). Draws outside the bounds are drawn again; when [a, b] holds under 10% of the
    distribution, uniform probabilities between the bounds' go through the inverse CDF instead.

    >>> nn.init.trunc_normal_(w, std=0.01)       # GoogLeNet's initialisation (torchvision)
    """
    if not a < b:
        raise ValueError(f"trunc_normal_: need a < b, got a={a!r}, b={b!r}")
    if not std > 0:
        raise ValueError(f"trunc_normal_: std must be positive, got {std!r}")
    if _skipping.get():
        return t
    rng, dist = get_rng(), statistics.NormalDist(mean, std)
    if dist.cdf(b) - dist.cdf(a) >= 0.1:
        values = rng.normal(mean, std, size=t.shape)
        outside = (values < a) | (values > b)
        while outside.any():
            values[outside] = rng.normal(mean, std, size=int(outside.sum()))
            outside = (values < a) | (values > b)
        return _fill(t, values)
    # a tail: work in the lower one, where the CDF's small values keep their precision
    flip = a > mean
    lo, hi = (2 * mean - b, 2 * mean - a) if flip else (a, b)
    u = rng.uniform(dist.cdf(lo), dist.cdf(hi), size=t.shape)
    values = np.clip(np.vectorize(dist.inv_cdf, otypes=[float])(u), lo, hi)
    return _fill(t, 2 * mean - values if flip else values)


def constant_(t: Tensor, value: float) -> Tensor:
    if _skipping.get():
        return t
    t.array[...] = value
    return t


def zeros_(t: Tensor) -> Tensor:
    return constant_(t, 0.0)


def ones_(t: Tensor) -> Tensor:
    return constant_(t, 1.0)


def xavier_uniform_(t: Tensor, gain: float = 1.0) -> Tensor:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))  (Glorot & Bengio 2010)."""
    fan_in, fan_out = _fans(t)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -bound, bound)


def xavier_normal_(t: Tensor, gain: float = 1.0) -> Tensor:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(t)
    return normal_(t, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(t, a, mode, nonlinearity):
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming init: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan = _fans(t)[0 if mode == "fan_in" else 1]
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(t: Tensor, a: float = 0.0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu") -> Tensor:
    """U(-b, b) with b = gain * sqrt(3 / fan)  (He et al. 2015)."""
    bound = math.sqrt(3.0) * _kaiming_std(t, a, mode, nonlinearity)
    return uniform_(t, -bound, bound)


def kaiming_normal_(t: Tensor, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu") -> Tensor:
    """N(0, std^2) with std = gain / sqrt(fan)."""
    return normal_(t, 0.0, _kaiming_std(t, a, mode, nonlinearity))


def default_weight_and_bias_(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default for Linear and Conv: kaiming_uniform_(a=sqrt(5)), i.e. U(+-1/sqrt(fan_in)),
    and the bias U(+-1/sqrt(fan_in))."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = _fans(weight)[0]
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)


# The lecture's names for the same initialisers.
glorot_uniform_ = xavier_uniform_
glorot_normal_ = xavier_normal_
he_uniform_ = kaiming_uniform_
he_normal_ = kaiming_normal_
