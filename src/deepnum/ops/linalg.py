"""Matrix products: batched matmul with broadcasting, and the fused linear map x W^T + b."""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.ops import unbroadcast


class MatMul(Function):
    """a @ b with NumPy's rules: 1-D operands are promoted and batch dimensions broadcast."""

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul: both operands must have at least one dimension, got shapes "
                             f"{a.shape} and {b.shape}")
        inner_a, inner_b = a.shape[-1], b.shape[-2] if b.ndim > 1 else b.shape[0]
        if inner_a != inner_b:
            raise ValueError(f"matmul: shapes {a.shape} and {b.shape} are not aligned "
                             f"({inner_a} != {inner_b})")
        self.a, self.b = a, b
        return a @ b

    def backward(self, g):
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a  # promote vectors as matmul does
        b2 = b[:, None] if b.ndim == 1 else b
        if b.ndim == 1:  # first: for vector @ vector g is 0-d and needs this axis before -2
            g = np.expand_dims(g, -1)
        if a.ndim == 1:
            g = np.expand_dims(g, -2)
        ga = gb = None
        if self.needs_input_grad[0]:
            ga = unbroadcast(g @ np.swapaxes(b2, -1, -2), a2.shape).reshape(a.shape)
        if self.needs_input_grad[1]:
            gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g, b2.shape).reshape(b.shape)
        return ga, gb


class Linear(Function):
    """y = x W^T + b for x of shape (..., in), W of shape (out, in): one BLAS call each way."""

    def forward(self, x, weight, bias=None):
        if x.ndim == 0 or weight.ndim != 2 or x.shape[-1] != weight.shape[1]:
            raise ValueError(f"linear: input of shape {x.shape} does not fit a weight of shape "
                             f"{weight.shape} (out_features, in_features)")
        self.x, self.weight = x, weight
        out = x @ weight.T
        if bias is not None:
            out += bias
        return out

    def backward(self, g):
        x, w = self.x, self.weight
        g2 = g.reshape(-1, g.shape[-1])
        gx = (g @ w) if self.needs_input_grad[0] else None
        gw = g2.T @ x.reshape(-1, x.shape[-1]) if self.needs_input_grad[1] else None
        if len(self.needs_input_grad) == 3:
            gb = g2.sum(axis=0) if self.needs_input_grad[2] else None
            return gx, gw, gb
        return gx, gw


class LinearReLU(Linear):
    """y = max(0, x W^T + b): Linear then ReLU as one op, the ReLU applied in place on the fresh
    product (no second array, no stored mask: y > 0 is exactly where the ReLU let g through)."""

    def forward(self, x, weight, bias=None):
        out = Linear.forward(self, x, weight, bias)
        np.maximum(out, 0, out=out)
        if self.needs_input_grad:
            self.out = out
        return out

    def backward(self, g):
        return super().backward(g * (self.out > 0))  # 0 at 0, as PyTorch's ReLU
