"""Activations written as one primitive because composing them costs passes over big arrays.

LeakyReLU composed as ``where(x > 0, x, slope * x)`` reads and writes the activation three times
forward and twice backward; here it is one scale array s (1 or the slope), y = s x and dL/dx =
s g. Both it and ReLU can also write y into x's own memory (``inplace=True``, PyTorch's
``inplace=``): the functional layer then gives x the op's place in the graph (see
``nn.functional.in_place``). Neither backward reads x itself, so overwriting it is safe.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.ops import constant
from deepnum.ops.elementwise import ReLU


class ReLUInPlace(ReLU):
    """max(0, x) written into x's memory; the mask (x > 0) is all backward needs."""

    saves_output = False  # the output is x's memory, which the caller may write again

    def forward(self, a):
        if self.needs_input_grad:
            self.positive = a > 0
        return self.maximum(a, out=a)

    def backward(self, g):
        return g * self.positive

    def vjp(self, g):
        return g * constant(self.positive.astype(g.array.dtype))


class LeakyReLU(Function):
    """y = x if x > 0 else slope * x (the gradient at 0 is the slope, as PyTorch's)."""

    saves = ()

    def forward(self, a, negative_slope=0.01, inplace=False):
        scale = np.where(a > 0, np.ones((), a.dtype), np.asarray(negative_slope, a.dtype))
        if self.needs_input_grad:
            self.scale = scale
        return np.multiply(a, scale, out=a if inplace else None)

    def backward(self, g):
        return g * self.scale

    def vjp(self, g):
        return g * constant(self.scale)
