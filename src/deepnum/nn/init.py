"""Weight initialisers, in place on a tensor, with PyTorch's names, formulas and defaults.

Glorot/Xavier keeps the variance of activations and gradients equal across layers for tanh/sigmoid:
Var(W) = 2 / (fan_in + fan_out). He/Kaiming does it for ReLU: Var(W) = 2 / fan_in. ``gain`` is the
factor a nonlinearity's derivative takes off the standard deviation (:func:`calculate_gain`).
Every function fills the tensor's own array (keeping its dtype), outside autograd, draws from
deepnum's generator or ``generator=``, and returns the tensor.

>>> w = nn.Parameter(dn.empty(256, 784))
>>> nn.init.kaiming_uniform_(w, nonlinearity="relu")
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
import warnings

import numpy as np

from deepnum.functions.inplace import bump
from deepnum.random import rng_of
from deepnum.tensor import Tensor

_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d", "sigmoid", "identity")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The recommended gain for a nonlinearity: 1 for linear/conv/sigmoid, 5/3 for tanh,
    sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (slope ``param``, 0.01 by default),
    3/4 for selu.

    >>> nn.init.calculate_gain("leaky_relu", 0.2)   # 1.3867...
    """
    if nonlinearity in _LINEAR:
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif (isinstance(param, int) and not isinstance(param, bool)) or isinstance(param, float):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """fan_in, fan_out of a weight laid out (out, in, *kernel) as in PyTorch."""
    if tensor.ndim < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 "
                         "dimensions")
    receptive = math.prod(tensor.shape[2:])
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _calculate_correct_fan(tensor: Tensor, mode: str) -> int:
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of ['fan_in', 'fan_out']")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor: Tensor, values) -> Tensor:
    """Write ``values`` into the tensor's array (cast to its dtype), as an in-place op outside
    autograd: the version counter moves, so a graph that saved the old values notices."""
    tensor.array[...] = values
    bump(tensor)
    return tensor


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator=None) -> Tensor:
    """U(a, b)."""
    return _fill(tensor, rng_of(generator).uniform(a, b, size=tensor.shape))


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator=None) -> Tensor:
    """N(mean, std^2)."""
    return _fill(tensor, rng_of(generator).normal(mean, std, size=tensor.shape))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0,
                  b: float = 2.0, generator=None) -> Tensor:
    """N(mean, std^2) restricted to [a, b] (a and b are values, not standard deviations):
    PyTorch's sampler, redrawing what falls outside when most of the mass is inside, else
    accept-reject of uniform proposals on [a, b]."""
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The "
                      "distribution of values may be incorrect.", stacklevel=2)
    rng, shape = rng_of(generator), tensor.shape

    def cdf(x):
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    if cdf((b - mean) / std) - cdf((a - mean) / std) > 0.3:
        values = rng.normal(mean, std, size=shape)
        outside = (values < a) | (values > b)
        while outside.any():  # redraw only what fell outside
            values[outside] = rng.normal(mean, std, size=int(outside.sum()))
            outside = (values < a) | (values > b)
        return _fill(tensor, values)
    peak = max(a, min(mean, b))  # the density's highest point on [a, b]
    log_peak = -0.5 * ((peak - mean) / std) ** 2
    values = rng.uniform(a, b, size=shape)
    pending = np.ones(shape, dtype=bool)
    while pending.any():  # accept x with probability exp(-(x-mean)^2 / 2std^2) / peak's
        log_density = -0.5 * ((values - mean) / std) ** 2 - log_peak
        pending &= np.log(rng.uniform(size=shape)) > log_density
        values = np.where(pending, rng.uniform(a, b, size=shape), values)
    return _fill(tensor, values)


def constant_(tensor: Tensor, val: float) -> Tensor:
    return _fill(tensor, val)


def ones_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 1)


def zeros_(tensor: Tensor) -> Tensor:
    return _fill(tensor, 0)


def eye_(tensor: Tensor) -> Tensor:
    """The identity matrix (a 2-D tensor); keeps the identity in Linear layers."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, np.eye(*tensor.shape))


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    """The Dirac delta (a 3-, 4- or 5-D conv weight): each output channel copies one input
    channel, so a conv starts as the identity, per group."""
    if tensor.ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if tensor.shape[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = tensor.shape[0] // groups
    values = np.zeros(tensor.shape)
    centre = tuple(s // 2 for s in tensor.shape[2:])
    for g in range(groups):
        for d in range(min(per_group, tensor.shape[1])):
            values[(g * per_group + d, d) + centre] = 1
    return _fill(tensor, values)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))  (Glorot & Bengio 2010)."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = math.sqrt(3.0) * gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator=None) -> Tensor:
    """N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def _kaiming_std(tensor, a, mode, nonlinearity) -> float | None:
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=3)
        return None
    return calculate_gain(nonlinearity, a) / math.sqrt(_calculate_correct_fan(tensor, mode))


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                     nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """U(-b, b) with b = gain * sqrt(3 / fan)  (He et al. 2015); ``a`` is the leaky_relu slope,
    ``mode='fan_out'`` keeps the backward pass's variance instead."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return tensor if std is None else uniform_(tensor, -math.sqrt(3.0) * std,
                                               math.sqrt(3.0) * std, generator)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", generator=None) -> Tensor:
    """N(0, std^2) with std = gain / sqrt(fan)."""
    std = _kaiming_std(tensor, a, mode, nonlinearity)
    return tensor if std is None else normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor: Tensor, gain: float = 1, generator=None) -> Tensor:
    """A (semi-)orthogonal matrix (Saxe et al. 2013), dimensions after the first flattened:
    Q of the QR decomposition of a Gaussian matrix, signs fixed by R's diagonal, times gain."""
    if tensor.ndim < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.array.size == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.array.size // rows
    flat = rng_of(generator).normal(0.0, 1.0, size=(rows, cols)).astype(tensor.array.dtype)
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q *= np.sign(np.diag(r))  # makes the decomposition unique: Q is uniform (Haar)
    if rows < cols:
        q = q.T
    return _fill(tensor, (q * gain).reshape(tensor.shape))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator=None) -> Tensor:
    """N(0, std^2) with a fraction ``sparsity`` of each column set to 0 (Martens 2010)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    rng = rng_of(generator)
    values = rng.normal(0.0, std, size=(rows, cols))
    zeros = math.ceil(sparsity * rows)
    for col in range(cols):
        values[rng.permutation(rows)[:zeros], col] = 0
    return _fill(tensor, values)


def default_weight_and_bias_(weight: Tensor, bias: Tensor | None) -> None:
    """PyTorch's default for Linear and Conv: kaiming_uniform_(a=sqrt(5)), i.e. U(+-1/sqrt(fan_in)),
    and the bias U(+-1/sqrt(fan_in))."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in = _calculate_fan_in_and_fan_out(weight)[0]
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)


# Inside skipped() (nn.utils.skip_init) every initialiser here returns its tensor untouched, as
# allocated, before drawing anything: building VGG-19 only to count it then takes milliseconds.
_skipping = contextvars.ContextVar("skip_init", default=False)


@contextlib.contextmanager
def skipped():
    """Within the block, the initialisers of this module do nothing (see nn.utils.skip_init)."""
    token = _skipping.set(True)
    try:
        yield
    finally:
        _skipping.reset(token)


def _skippable(initialiser):
    @functools.wraps(initialiser)
    def run(tensor, *args, **kwargs):
        if _skipping.get():
            return tensor
        return initialiser(tensor, *args, **kwargs)

    return run


for _name in [n for n, f in globals().items() if n.endswith("_") and not n.startswith("_")
              and callable(f) and f.__module__ == __name__]:
    globals()[_name] = _skippable(globals()[_name])

# The lecture's names for the same initialisers.
glorot_uniform_ = xavier_uniform_
glorot_normal_ = xavier_normal_
he_uniform_ = kaiming_uniform_
he_normal_ = kaiming_normal_
