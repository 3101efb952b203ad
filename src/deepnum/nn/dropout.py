"""Dropout: a cure for overfitting that trains an ensemble of thinned networks at once."""

from __future__ import annotations

from deepnum.nn import functional as F
from deepnum.nn._validate import probability
from deepnum.nn.module import Module
from deepnum.tensor import Tensor


class Dropout(Module):
    """Zero each input with probability ``p`` during training; identity in eval mode.

    deepnum uses inverted dropout: kept inputs are scaled by 1/(1-p) while training, which in
    expectation equals the lecture's rule of scaling the weights at test time,
    W_test = (1-p) W_train.

    >>> drop = nn.Dropout(p=0.2)
    >>> drop.eval(); drop(x) is x         # True
    """

    def __init__(self, p: float = 0.5):
        super().__init__()
        self.p = probability("Dropout", "p", p)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
