"""Elementwise ops: arithmetic, exp/log/sqrt/abs/clip, and the fused activations speed needs."""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.ops import unbroadcast


def _broadcast_check(a: np.ndarray, b: np.ndarray, name: str) -> None:
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise ValueError(f"{name}: shapes {a.shape} and {b.shape} cannot be broadcast "
                         f"together") from None


class Add(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        if a.shape != b.shape:
            _broadcast_check(a, b, "add")
        return a + b

    def backward(self, g):
        sa, sb = self.shapes
        return unbroadcast(g, sa), unbroadcast(g, sb)


class Sub(Function):
    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        if a.shape != b.shape:
            _broadcast_check(a, b, "sub")
        return a - b

    def backward(self, g):
        sa, sb = self.shapes
        gb = unbroadcast(-g, sb) if self.needs_input_grad[1] else None
        return unbroadcast(g, sa), gb


class Mul(Function):
    def forward(self, a, b):
        if a.shape != b.shape:
            _broadcast_check(a, b, "mul")
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        a, b = self.a, self.b
        ga = unbroadcast(g * b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(g * a, b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Div(Function):
    def forward(self, a, b):
        if a.shape != b.shape:
            _broadcast_check(a, b, "div")
        self.a, self.b = a, b
        return a / b

    def backward(self, g):
        a, b = self.a, self.b
        ga = unbroadcast(g / b, a.shape) if self.needs_input_grad[0] else None
        gb = unbroadcast(-g * a / (b * b), b.shape) if self.needs_input_grad[1] else None
        return ga, gb


class Neg(Function):
    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class PowScalar(Function):
    """x ** c for a constant exponent c."""

    def forward(self, a, exponent):
        self.a, self.c = a, exponent
        return a ** exponent

    def backward(self, g):
        a, c = self.a, self.c
        if c == 0:
            return np.zeros_like(a)
        return g * (c * a ** (c - 1)).astype(a.dtype, copy=False)


class Pow(Function):
    """a ** b with both sides tensors: d/da = b a^(b-1), d/db = a^b log a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.out = a ** b
        return self.out

    def backward(self, g):
        a, b = self.a, self.b
        ga = unbroadcast(g * b * a ** (b - 1), a.shape) if self.needs_input_grad[0] else None
        gb = None
        if self.needs_input_grad[1]:
            # PyTorch's convention: the gradient is 0 where a == 0 and b >= 0 (log 0 is -inf)
            with np.errstate(divide="ignore", invalid="ignore"):
                logs = np.where(a == 0, 0, np.log(np.where(a == 0, 1, a)))
            gb = unbroadcast(g * self.out * logs, b.shape)
        return ga, gb


class Exp(Function):
    def forward(self, a):
        self.out = np.exp(a)
        return self.out

    def backward(self, g):
        return g * self.out


class Log(Function):
    def forward(self, a):
        self.a = a
        return np.log(a)

    def backward(self, g):
        return g / self.a


class Sqrt(Function):
    def forward(self, a):
        self.out = np.sqrt(a)
        return self.out

    def backward(self, g):
        return g / (2 * self.out)


class Abs(Function):
    def forward(self, a):
        self.a = a
        return np.abs(a)

    def backward(self, g):
        return g * np.sign(self.a)  # 0 at 0, as PyTorch


class Clip(Function):
    """clip(x, low, high); the gradient passes where low <= x <= high (bounds included: torch)."""

    def forward(self, a, low=None, high=None):
        self.a, self.low, self.high = a, low, high
        return np.clip(a, low, high)

    def backward(self, g):
        inside = np.ones(self.a.shape, dtype=bool)
        if self.low is not None:
            inside &= self.a >= self.low
        if self.high is not None:
            inside &= self.a <= self.high
        return g * inside


class Where(Function):
    """where(cond, a, b): the gradient goes to a where cond holds, to b elsewhere."""

    def forward(self, a, b, condition):
        self.condition, self.shapes = condition, (a.shape, b.shape)
        return np.where(condition, a, b)

    def backward(self, g):
        sa, sb = self.shapes
        ga = unbroadcast(np.where(self.condition, g, 0), sa) if self.needs_input_grad[0] else None
        gb = unbroadcast(np.where(self.condition, 0, g), sb) if self.needs_input_grad[1] else None
        return ga, gb


class ReLU(Function):
    def forward(self, a):
        if self.needs_input_grad:  # the mask is for backward only: inference skips a pass
            self.positive = a > 0
        return np.maximum(a, 0, dtype=a.dtype)

    def backward(self, g):
        return g * self.positive  # 0 at 0, as PyTorch


class Sigmoid(Function):
    """1 / (1 + e^-z), computed so that neither branch overflows for large |z|."""

    def forward(self, a):
        e = np.exp(-np.abs(a))
        self.out = np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)
        return self.out

    def backward(self, g):
        s = self.out
        return g * s * (1 - s)


class Tanh(Function):
    def forward(self, a):
        self.out = np.tanh(a)
        return self.out

    def backward(self, g):
        return g * (1 - self.out * self.out)


def _stable_sigmoid(a: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


class Softplus(Function):
    """(1/beta) log(1 + e^(beta z)), linear where beta z > threshold (PyTorch's rule).

    Computed as logaddexp(0, beta z) / beta, which neither overflows for large z nor rounds to 0
    for very negative z; the derivative is sigmoid(beta z) (1 past the threshold).
    """

    def forward(self, a, beta=1.0, threshold=20.0):
        self.bz = a * np.asarray(beta, dtype=a.dtype)
        self.linear = self.bz > threshold
        return np.where(self.linear, a, np.logaddexp(0, self.bz) / beta).astype(a.dtype, copy=False)

    def backward(self, g):
        return g * np.where(self.linear, 1, _stable_sigmoid(self.bz)).astype(g.dtype, copy=False)


class Step(Function):
    """Unit step: 1 for z > 0, 0.5 at z = 0, 0 for z < 0. Its gradient is 0 (almost everywhere)."""

    def forward(self, a):
        self.shape = a.shape
        return np.heaviside(a, np.asarray(0.5, dtype=a.dtype)).astype(a.dtype, copy=False)

    def backward(self, g):
        return np.zeros(self.shape, dtype=g.dtype)


class Sign(Function):
    """sign(z) in {-1, 0, 1}. Its gradient is 0 (almost everywhere), as torch.sign's."""

    def forward(self, a):
        self.shape = a.shape
        return np.sign(a)

    def backward(self, g):
        return np.zeros(self.shape, dtype=g.dtype)
