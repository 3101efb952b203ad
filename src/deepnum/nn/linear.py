"""Fully connected layers: Linear (y = x W^T + b), Identity, and Flatten."""

from __future__ import annotations

from deepnum.creation import empty
from deepnum.nn import functional as F
from deepnum.nn import init
from deepnum.nn._validate import integer, positive_int
from deepnum.nn.module import Module, Parameter
from deepnum.tensor import Tensor


class Linear(Module):
    """A layer of neurons: z = W x + b for each input row, the lecture's single neuron times
    ``out_features``. ``weight`` is (out_features, in_features) as in PyTorch.

    >>> fc = nn.Linear(784, 10)          # the lecture's 784 -> 10 softmax classifier
    >>> fc(dn.randn(32, 784)).shape      # (32, 10)
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None):
        super().__init__()
        self.in_features = positive_int("Linear", "in_features", in_features)
        self.out_features = positive_int("Linear", "out_features", out_features)
        self.weight = Parameter(empty(out_features, in_features, dtype=dtype, device=device))
        self.bias = Parameter(empty(out_features, dtype=dtype, device=device)) if bias else None
        if not bias:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.default_weight_and_bias_(self.weight, self.bias)

    def check_input(self, x: Tensor) -> None:
        """Raise ShapeError naming this layer and both shapes unless x is (*, in_features)."""
        shape = x.array.shape  # not x.shape: this runs for every batch, and at one sample it shows
        if not shape or shape[-1] != self.in_features:
            raise F.shape_error(self, f"input of shape (*, {self.in_features})", shape)

    def forward(self, x: Tensor) -> Tensor:
        self.check_input(x)
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """y = x (a placeholder layer, the lecture's linear activation without weights)."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class Flatten(Module):
    """Collapse dims start_dim..end_dim into one: (N, 1, 28, 28) -> (N, 784)."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim = integer("Flatten", "start_dim", start_dim)
        self.end_dim = integer("Flatten", "end_dim", end_dim)

    def forward(self, x: Tensor) -> Tensor:
        return x.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
