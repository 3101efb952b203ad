"""Linear followed by ReLU as one op: what the fusion plan runs for ``Linear, ReLU``.

    y = max(0, x W^T + b)

The ReLU is applied in place on the fresh product, so there is no second array and no stored
mask: y > 0 is exactly where the ReLU lets the gradient through. Same numbers as Linear then
ReLU (tested).
"""

from __future__ import annotations

import numpy as np

from deepnum.fast import speeds_up
from deepnum.ops import constant
from deepnum.ops.linalg import Linear


class LinearReLU(Linear):
    saves = (0, 1)
    saves_output = True

    def forward(self, x, weight, bias=None):
        out = Linear.forward(self, x, weight, bias)
        np.maximum(out, 0, out=out)
        if self.needs_input_grad:
            self.out = out
        return out

    def backward(self, g):
        return super().backward(g * (self.out > 0))  # 0 at 0, as PyTorch's ReLU

    def vjp(self, g):
        # ReLU's vjp (g times its constant mask), then Linear's: the unfused composition's
        return super().vjp(g * constant((self.out > 0).astype(g.array.dtype)))


speeds_up(("linear", "relu"))(LinearReLU)
