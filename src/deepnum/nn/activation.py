"""Activation layers: each wraps its function in :mod:`deepnum.nn.functional`."""

from __future__ import annotations

from deepnum.nn import functional as F
from deepnum.nn.module import Module
from deepnum.tensor import Tensor


class ReLU(Module):
    """ReLU(z) = max(0, z)."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


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

    def __init__(self, dim: int = -1):
        super().__init__()
        self.dim = dim

    def forward(self, x: Tensor) -> Tensor:
        return F.softmax(x, self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log p_i = z_i - log sum_j e^{z_j} over ``dim``."""

    def forward(self, x: Tensor) -> Tensor:
        return F.log_softmax(x, self.dim)
