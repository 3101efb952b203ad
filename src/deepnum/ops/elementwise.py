"""Elementwise ops: arithmetic, exp/log/sqrt/abs/clip, where, and the activations with a fused
stable form (sigmoid, softplus). Inputs arrive with one dtype (deepnum.functions promotes them)."""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.ops import constant, sum_to, unbroadcast


def _broadcast_check(a: np.ndarray, b: np.ndarray, name: str) -> None:
    try:
        np.broadcast_shapes(a.shape, b.shape)
    except ValueError:
        raise RuntimeError(f"{name}: the size of tensor a {tuple(a.shape)} must match the size "
                           f"of tensor b {tuple(b.shape)} (they cannot be broadcast together)"
                           ) from None


class Add(Function):
    saves = ()

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        if a.shape != b.shape:
            _broadcast_check(a, b, "add")
        return a + b

    def backward(self, g):
        sa, sb = self.shapes
        return unbroadcast(g, sa), unbroadcast(g, sb)

    def vjp(self, g):
        sa, sb = self.shapes
        return sum_to(g, sa), sum_to(g, sb)


class Sub(Function):
    saves = ()

    def forward(self, a, b):
        self.shapes = a.shape, b.shape
        if a.shape != b.shape:
            _broadcast_check(a, b, "sub")
        return a - b

    def backward(self, g):
        sa, sb = self.shapes
        gb = unbroadcast(-g, sb) if self.needs_input_grad[1] else None
        return unbroadcast(g, sa), gb

    def vjp(self, g):
        sa, sb = self.shapes
        return sum_to(g, sa), sum_to(-g, sb)


class Mul(Function):
    saves = (0, 1)
    needed_by = {0: (1,), 1: (0,)}  # d(ab)/da = b, d(ab)/db = a

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

    def vjp(self, g):
        a, b = self.parents
        return sum_to(g * b, a.shape), sum_to(g * a, b.shape)


class Div(Function):
    saves = (0, 1)
    needed_by = {0: (1,)}  # d(a/b)/db = -a/b^2 reads a; both read b

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

    def vjp(self, g):
        a, b = self.parents
        return sum_to(g / b, a.shape), sum_to(-g * a / (b * b), b.shape)


class Neg(Function):
    saves = ()

    def forward(self, a):
        return -a

    def backward(self, g):
        return -g

    def vjp(self, g):
        return -g


class PowScalar(Function):
    """x ** c for a constant exponent c: d/dx = c x^(c-1)."""

    saves = (0,)

    def forward(self, a, exponent):
        self.a, self.c = a, exponent
        with np.errstate(divide="ignore", invalid="ignore"):  # (-1) ** 0.5 is nan, as torch's
            return a ** np.asarray(exponent, dtype=a.dtype) if a.dtype.kind == "f" else \
                a ** exponent

    def backward(self, g):
        a, c = self.a, self.c
        if c == 0:
            return np.zeros_like(g)
        with np.errstate(divide="ignore", invalid="ignore"):
            return g * (c * a ** (c - 1)).astype(g.dtype, copy=False)

    def vjp(self, g):
        (a,) = self.parents
        if self.c == 0:
            return g * 0
        return g * (a ** (self.c - 1)) * self.c


class Pow(Function):
    """a ** b with both sides tensors: d/da = b a^(b-1), d/db = a^b log a (0 where a = 0 and
    b >= 0, as PyTorch)."""

    saves = (0, 1)
    saves_output = True

    def forward(self, a, b):
        self.a, self.b = a, b
        with np.errstate(divide="ignore", invalid="ignore"):
            self.out = a ** b
        return self.out

    def backward(self, g):
        a, b = self.a, self.b
        ga = gb = None
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.needs_input_grad[0]:
                ga = unbroadcast(g * b * a ** (b - 1), a.shape)
            if self.needs_input_grad[1]:
                # 0 where a = 0 and b >= 0; where a = 0 and b < 0 it is inf * log 0 = -inf
                zero = (a == 0) & (b >= 0)
                gb = unbroadcast(np.where(zero, 0, g * self.out * np.log(a)), b.shape)
        return ga, gb

    def vjp(self, g):
        a, b = self.parents
        out = Pow.apply(a, b)
        zero = (a.array == 0) & (b.array >= 0)
        safe = constant(np.where(zero, 1, a.array).astype(a.array.dtype))
        logs = Log.apply(Where.apply(safe, a, condition=zero))
        gb = Where.apply(constant(np.zeros((), g.dtype.numpy)), g * out * logs, condition=zero)
        return sum_to(g * b * Pow.apply(a, b - 1), a.shape), sum_to(gb, b.shape)


class Exp(Function):
    saves = ()
    saves_output = True

    def forward(self, a):
        self.out = np.exp(a)
        return self.out

    def backward(self, g):
        return g * self.out

    def vjp(self, g):
        return g * Exp.apply(self.parents[0])


class Log(Function):
    saves = (0,)

    def forward(self, a):
        self.a = a
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(a)

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore"):
            return g / self.a

    def vjp(self, g):
        return g / self.parents[0]


class Sqrt(Function):
    saves = ()
    saves_output = True

    def forward(self, a):
        with np.errstate(invalid="ignore"):
            self.out = np.sqrt(a)
        return self.out

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore"):
            return g / (2 * self.out)

    def vjp(self, g):
        return g / (Sqrt.apply(self.parents[0]) * 2)


class Abs(Function):
    saves = (0,)

    def forward(self, a):
        self.a = a
        return np.abs(a)

    def backward(self, g):
        return g * np.sign(self.a)  # 0 at 0, as PyTorch

    def vjp(self, g):
        return g * constant(np.sign(self.parents[0].array))


class Clip(Function):
    """clip(x, low, high); the gradient passes where low <= x <= high (bounds included: torch)."""

    saves = ()

    def forward(self, a, low=None, high=None):
        inside = np.ones(a.shape, dtype=bool)
        if low is not None:
            inside &= a >= low
        if high is not None:
            inside &= a <= high
        self.inside = inside
        out = a
        if low is not None:
            out = np.maximum(out, np.asarray(low, a.dtype))
        if high is not None:
            out = np.minimum(out, np.asarray(high, a.dtype))
        return out if out is not a else a.copy()

    def backward(self, g):
        return g * self.inside

    def vjp(self, g):
        return g * constant(self.inside.astype(g.array.dtype))


class Where(Function):
    """where(cond, a, b): the gradient goes to a where cond holds, to b elsewhere."""

    saves = ()

    def forward(self, a, b, condition):
        self.condition, self.shapes = condition, (a.shape, b.shape)
        return np.where(condition, a, b)

    def backward(self, g):
        sa, sb = self.shapes
        zero = np.zeros((), g.dtype)
        ga = unbroadcast(np.where(self.condition, g, zero), sa) if self.needs_input_grad[0] \
            else None
        gb = unbroadcast(np.where(self.condition, zero, g), sb) if self.needs_input_grad[1] \
            else None
        return ga, gb

    def vjp(self, g):
        sa, sb = self.shapes
        mask = constant(np.asarray(self.condition).astype(g.array.dtype))
        return sum_to(g * mask, sa), sum_to(g * (1 - mask), sb)


class ReLU(Function):
    """max(0, x). Backward reads the output, as PyTorch's: y > 0 exactly where x > 0 (a NaN
    input gives a NaN output, through which no gradient passes; PyTorch passes it), so the
    forward makes no mask, and the next layer usually keeps y anyway."""

    saves = ()
    saves_output = True

    def forward(self, a):
        out = self.maximum(a)
        if self.needs_input_grad:
            self.out = out
        return out

    @staticmethod
    def maximum(a, out=None):
        """max(a, 0), into ``out`` if given (the one line the speed wing replaces)."""
        return np.maximum(a, 0, dtype=a.dtype, out=out)

    def backward(self, g):
        return g * (self.out > 0)  # 0 at 0, as PyTorch

    def vjp(self, g):
        return g * constant((self.out > 0).astype(g.array.dtype))


def stable_sigmoid(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e^-z), computed so that neither branch overflows for large |z|."""
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)


class Sigmoid(Function):
    """1 / (1 + e^-z); the derivative is s (1 - s)."""

    saves = ()
    saves_output = True

    def forward(self, a):
        self.out = stable_sigmoid(a)
        return self.out

    def backward(self, g):
        s = self.out
        return g * s * (1 - s)

    def vjp(self, g):
        s = Sigmoid.apply(self.parents[0])
        return g * s * (1 - s)


class Tanh(Function):
    saves = ()
    saves_output = True

    def forward(self, a):
        self.out = np.tanh(a)
        return self.out

    def backward(self, g):
        return g * (1 - self.out * self.out)

    def vjp(self, g):
        t = Tanh.apply(self.parents[0])
        return g * (1 - t * t)


class Softplus(Function):
    """(1/beta) log(1 + e^(beta z)), linear where beta z > threshold (PyTorch's rule).

    Computed as logaddexp(0, beta z) / beta, which neither overflows for large z nor rounds to 0
    for very negative z; the derivative is sigmoid(beta z) (1 past the threshold).
    """

    saves = ()

    def forward(self, a, beta=1.0, threshold=20.0):
        self.bz = a * np.asarray(beta, dtype=a.dtype)
        self.linear = self.bz > threshold
        return np.where(self.linear, a, np.logaddexp(0, self.bz) / beta).astype(a.dtype, copy=False)

    def backward(self, g):
        return g * np.where(self.linear, 1, stable_sigmoid(self.bz)).astype(g.dtype, copy=False)

    def vjp(self, g):
        beta = self.attributes.get("beta", 1.0)
        s = Sigmoid.apply(self.parents[0] * beta)
        linear = constant(self.linear.astype(g.array.dtype))
        return g * (linear + (1 - linear) * s)


class Step(Function):
    """Unit step: 1 for z > 0, 0.5 at z = 0, 0 for z < 0. Its gradient is 0 (almost everywhere)."""

    saves = ()

    def forward(self, a):
        self.shape = a.shape
        return np.heaviside(a, np.asarray(0.5, dtype=a.dtype)).astype(a.dtype, copy=False)

    def backward(self, g):
        return np.zeros(self.shape, dtype=g.dtype)

    def vjp(self, g):
        return g * 0


class Sign(Step):
    """sign(z) in {-1, 0, 1}. Its gradient is 0 (almost everywhere), as torch.sign's."""

    def forward(self, a):
        self.shape = a.shape
        return np.sign(a)


class Heaviside(Function):
    """H(x) = 0 for x < 0, ``values`` at 0, 1 above. PyTorch records it but defines no
    derivative: backward through it raises, as there."""

    saves = ()

    def forward(self, a, values):
        return np.heaviside(a, values).astype(a.dtype, copy=False)

    def backward(self, g):
        raise RuntimeError("derivative for aten::heaviside is not implemented")
