"""Activation layers: each wraps its function in :mod:`deepnum.nn.functional`.

:data:`ACTIVATIONS` is the one table of activations by name, read by the model builders, the
``deepnum`` command, the Playground and the demos. Adding an activation takes a function in
``nn.functional``, a class here and its entry in the table.
"""

from __future__ import annotations

from deepnum.creation import empty
from deepnum.nn import functional as F
from deepnum.nn import init
from deepnum.nn._validate import integer, non_negative, one_of, positive_int
from deepnum.nn.linear import Identity
from deepnum.nn.module import Module, Parameter
from deepnum.tensor import Tensor


class _InPlace(Module):
    """An activation with PyTorch's ``inplace`` option: write the result into the input."""

    def __init__(self, inplace: bool = False):
        super().__init__()
        self.inplace = bool(inplace)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(_InPlace):
    """ReLU(z) = max(0, z).

    >>> nn.ReLU(inplace=True)(x)       # x itself, overwritten (no new array)
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x, self.inplace)


class Sigmoid(Module):
    """sigma(z) = 1 / (1 + e^-z)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Tanh(Module):
    """tanh(z) = (e^z - e^-z) / (e^z + e^-z)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class Softmax(Module):
    """p_i = e^{z_i} / sum_j e^{z_j} over ``dim``."""

    def __init__(self, dim: int | None = None):
        super().__init__()
        self.dim = integer(type(self).__name__, "dim", dim, allow_none=True)

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log p_i = z_i - log sum_j e^{z_j} over ``dim``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.dim)


class Step(Module):
    """Unit step: sigma(z) = 1 if z > 0, 0.5 if z = 0, 0 if z < 0 (the perceptron's activation).

    Its gradient is 0 almost everywhere (taken as 0 at z = 0 too), so gradient descent cannot train
    the layers below it.

    >>> nn.Step()(dn.tensor([-2.0, 0.0, 3.0]))      # tensor([0. , 0.5, 1. ])
    """

    differentiable = False  # its gradient is 0: nothing below it learns by gradient descent

    def forward(self, x: Tensor) -> Tensor:
        return F.step(x)


class Sign(Module):
    """Sign: sigma(z) = 1 if z > 0, 0 if z = 0, -1 if z < 0. Its gradient is 0 almost everywhere
    (taken as 0 everywhere, as ``torch.sign``).

    >>> nn.Sign()(dn.tensor([-2.0, 0.0, 3.0]))      # tensor([-1., 0., 1.])
    """

    differentiable = False

    def forward(self, x: Tensor) -> Tensor:
        return F.sign(x)


class LeakyReLU(Module):
    """LeakyReLU(z) = z if z > 0 else negative_slope * z.

    >>> nn.LeakyReLU(0.1)(dn.tensor([-2.0, 3.0]))   # tensor([-0.2, 3. ])
    """

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False):
        super().__init__()
        self.negative_slope = non_negative("LeakyReLU", "negative_slope", negative_slope)
        self.inplace = bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return F.leaky_relu(x, self.negative_slope, self.inplace)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class ELU(Module):
    """ELU(z) = z if z > 0 else alpha (e^z - 1).

    >>> nn.ELU()(dn.tensor([-1.0, 2.0]))           # tensor([-0.6321, 2.])
    """

    def __init__(self, alpha: float = 1.0, inplace: bool = False):
        super().__init__()
        self.alpha = non_negative(type(self).__name__, "alpha", alpha)
        self.inplace = bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return F.elu(x, self.alpha, self.inplace)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SELU(_InPlace):
    """SELU(z) = scale * (z if z > 0 else alpha (e^z - 1)), alpha = 1.6733, scale = 1.0507.

    >>> nn.SELU()(dn.tensor([-1.0, 2.0]))          # tensor([-1.1113, 2.1014])
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.selu(x, self.inplace)


class Softplus(Module):
    """softplus(z) = (1/beta) log(1 + e^(beta z)); z itself where beta z > threshold.

    >>> nn.Softplus()(dn.tensor([0.0]))             # tensor([0.6931])
    """

    def __init__(self, beta: float = 1.0, threshold: float = 20.0):
        super().__init__()
        if not beta > 0:
            raise ValueError(f"Softplus: beta must be > 0, got {beta!r}")
        self.beta, self.threshold = float(beta), float(threshold)

    def forward(self, x: Tensor) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Maxout(Module):
    """Maxout unit (Goodfellow et al. 2013): h_j(x) = max_{k < pieces} (W_{jk} x + b_{jk}).

    One linear map to ``out_features * pieces`` values, then the max over each group of ``pieces``
    consecutive ones. ``weight`` is (out_features * pieces, in_features); row j*pieces + k is
    piece k of unit j. Initialised as a Linear layer of that size.

    >>> layer = nn.Maxout(2, 8, pieces=3)
    >>> layer(dn.randn(5, 2)).shape                # (5, 8)
    """

    def __init__(self, in_features: int, out_features: int, pieces: int = 2, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.in_features = positive_int("Maxout", "in_features", in_features)
        self.out_features = positive_int("Maxout", "out_features", out_features)
        self.pieces = positive_int("Maxout", "pieces", pieces)
        rows = out_features * pieces
        factory = dict(dtype=dtype, device=device)
        self.weight = Parameter(empty(rows, in_features, **factory))
        self.register_parameter("bias", Parameter(empty(rows, **factory)) if bias else None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_weight_and_bias_(self.weight, self.bias)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise F.shape_error(self, f"input of shape (*, {self.in_features})", x.shape)
        return F.maxout(F.linear(x, self.weight, self.bias), self.pieces, dim=-1)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"pieces={self.pieces}, bias={self.bias is not None}")


class GELU(Module):
    """GELU(z) = z Phi(z) (Phi the standard normal CDF); ``approximate='tanh'``:
    z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) / 2. The transformers' activation.

    >>> nn.GELU()(dn.tensor([-1.0, 0.0, 1.0]))      # tensor([-0.1587, 0., 0.8413])
    """

    def __init__(self, approximate: str = "none"):
        super().__init__()
        self.approximate = one_of("GELU", "approximate", approximate, ("none", "tanh"))

    def forward(self, x: Tensor) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class SiLU(_InPlace):
    """SiLU(z) = z sigma(z) (swish).

    >>> nn.SiLU()(dn.tensor([0.0, 1.0]))            # tensor([0., 0.7311])
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.silu(x, self.inplace)


class Mish(_InPlace):
    """Mish(z) = z tanh(softplus(z)).

    >>> nn.Mish()(dn.tensor([0.0, 1.0]))            # tensor([0., 0.8651])
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.mish(x, self.inplace)


class Hardtanh(Module):
    """Hardtanh(z) = clamp(z, min_val, max_val); the gradient passes strictly between them.

    >>> nn.Hardtanh(-2.0, 2.0)(dn.tensor([-3.0, 1.0, 3.0]))   # tensor([-2., 1., 2.])
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False):
        super().__init__()
        name = type(self).__name__
        if not max_val > min_val:
            raise ValueError(f"{name}: max_val ({max_val}) must be greater than min_val "
                             f"({min_val})")
        self.min_val, self.max_val, self.inplace = float(min_val), float(max_val), bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return F.hardtanh(x, self.min_val, self.max_val, self.inplace)

    def extra_repr(self) -> str:
        return (f"min_val={self.min_val}, max_val={self.max_val}"
                + (", inplace=True" if self.inplace else ""))


class ReLU6(_InPlace):
    """ReLU6(z) = min(max(0, z), 6).

    >>> nn.ReLU6()(dn.tensor([-1.0, 3.0, 8.0]))     # tensor([0., 3., 6.])
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.relu6(x, self.inplace)


class Hardsigmoid(_InPlace):
    """Hardsigmoid(z) = 0 if z <= -3, 1 if z >= 3, else z/6 + 1/2.

    >>> nn.Hardsigmoid()(dn.tensor([-4.0, 0.0, 4.0]))   # tensor([0., 0.5, 1.])
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.hardsigmoid(x, self.inplace)

    def extra_repr(self) -> str:
        return ""  # PyTorch's repr leaves inplace out for this one


class Hardswish(_InPlace):
    """Hardswish(z) = 0 if z <= -3, z if z >= 3, else z (z + 3) / 6.

    >>> nn.Hardswish()(dn.tensor([-4.0, 1.0, 4.0]))     # tensor([0., 0.6667, 4.])
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.hardswish(x, self.inplace)

    def extra_repr(self) -> str:
        return ""  # PyTorch's repr leaves inplace out for this one


class CELU(ELU):
    """CELU(z) = max(0, z) + min(0, alpha (e^(z/alpha) - 1)).

    >>> nn.CELU(2.0)(dn.tensor([-1.0, 1.0]))        # tensor([-0.7869, 1.])
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.celu(x, self.alpha, self.inplace)


class PReLU(Module):
    """PReLU(z) = z if z > 0 else a z, the slope a learned: one shared (``num_parameters=1``) or
    one per channel (axis 1), initialised to ``init``.

    >>> act = nn.PReLU(16)                           # weight (16,), all 0.25
    >>> act(dn.randn(8, 16, 10, 10)).shape           # (8, 16, 10, 10)
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None, dtype=None):
        super().__init__()
        self.num_parameters = positive_int("PReLU", "num_parameters", num_parameters)
        self.init = float(init)
        self.weight = Parameter(empty(num_parameters, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.weight.array[...] = self.init

    def forward(self, x: Tensor) -> Tensor:
        return F.prelu(x, self.weight)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class Softmin(Softmax):
    """softmin(z)_i = e^{-z_i} / sum_j e^{-z_j} over ``dim``: weights that favour the smallest."""

    def forward(self, x: Tensor) -> Tensor:
        return F.softmin(x, self.dim)


class LogSigmoid(Module):
    """LogSigmoid(z) = log sigma(z) = -softplus(-z), stable.

    >>> nn.LogSigmoid()(dn.tensor([0.0]))           # tensor([-0.6931])
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.logsigmoid(x)


class Threshold(Module):
    """Threshold(z) = z if z > threshold else value.

    >>> nn.Threshold(0.1, 20.0)(dn.tensor([0.0, 1.0]))   # tensor([20., 1.])
    """

    def __init__(self, threshold: float, value: float, inplace: bool = False):
        super().__init__()
        self.threshold, self.value, self.inplace = threshold, value, bool(inplace)

    def forward(self, x: Tensor) -> Tensor:
        return F.threshold(x, self.threshold, self.value, self.inplace)

    def extra_repr(self) -> str:
        return (f"threshold={self.threshold}, value={self.value}"
                + (", inplace=True" if self.inplace else ""))


class Softsign(Module):
    """Softsign(z) = z / (1 + |z|).

    >>> nn.Softsign()(dn.tensor([1.0]))             # tensor([0.5])
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.softsign(x)


class Tanhshrink(Module):
    """Tanhshrink(z) = z - tanh(z).

    >>> nn.Tanhshrink()(dn.tensor([1.0]))           # tensor([0.2384])
    """

    def forward(self, x: Tensor) -> Tensor:
        return F.tanhshrink(x)


# name -> class: the elementwise activations, the lectures' first (Maxout, which has weights, is
# a layer of its own; Softmax/Softmin normalise over a dim and Threshold has no defaults, so
# they are layers but not entries: every entry is built as ``cls()`` by the MLP builder)
ACTIVATIONS: dict[str, type] = {
    "step": Step,
    "sign": Sign,
    "linear": Identity,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
    "selu": SELU,
    "softplus": Softplus,
    "gelu": GELU,
    "silu": SiLU,
    "mish": Mish,
    "hardtanh": Hardtanh,
    "relu6": ReLU6,
    "hardsigmoid": Hardsigmoid,
    "hardswish": Hardswish,
    "celu": CELU,
    "prelu": PReLU,
    "log_sigmoid": LogSigmoid,
    "softsign": Softsign,
    "tanhshrink": Tanhshrink,
}


def activation(name: str, **kwargs) -> Module:
    """A new activation layer from its name (``relu``, ``leaky_relu``, ``LeakyReLU`` ...)."""
    key = name.lower().replace("-", "_")
    for known, cls in ACTIVATIONS.items():
        if key in (known, known.replace("_", "")) or name == cls.__name__:
            return cls(**kwargs)
    raise ValueError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}")
