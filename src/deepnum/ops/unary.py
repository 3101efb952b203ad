"""More elementwise functions of one tensor: trigonometric, hyperbolic, log1p/expm1, erf, and the
roundings (whose gradient is 0). Each is its formula and its derivative, in NumPy for backward
and in tensor operations for ``vjp``.

    d sin = cos,  d cos = -sin,  d tan = 1 + tan^2,  d asin = 1 / sqrt(1 - x^2),
    d atan = 1 / (1 + x^2),  d sinh = cosh,  d cosh = sinh,  d log1p = 1 / (1 + x),
    d expm1 = e^x,  d erf = 2 / sqrt(pi) e^(-x^2)
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.autograd import Function
from deepnum.ops import constant, sum_to, unbroadcast


class _Unary(Function):
    """f(x) elementwise; subclasses give ``f``, its derivative ``df`` (NumPy) and ``dft`` (the
    derivative as tensor operations, for double backward)."""

    saves = (0,)

    def forward(self, a):
        self.a = a
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return self.f(a).astype(a.dtype, copy=False)

    def backward(self, g):
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return (g * self.df(self.a)).astype(g.dtype, copy=False)

    def vjp(self, g):
        return g * self.dft(self.parents[0])


class Sin(_Unary):
    f, df = staticmethod(np.sin), staticmethod(np.cos)

    def dft(self, x):
        return x.cos()


class Cos(_Unary):
    f = staticmethod(np.cos)

    @staticmethod
    def df(a):
        return -np.sin(a)

    def dft(self, x):
        return -x.sin()


class Tan(_Unary):
    f = staticmethod(np.tan)

    @staticmethod
    def df(a):
        t = np.tan(a)
        return 1 + t * t

    def dft(self, x):
        t = x.tan()
        return 1 + t * t


class Asin(_Unary):
    f = staticmethod(np.arcsin)

    @staticmethod
    def df(a):
        return 1 / np.sqrt(1 - a * a)

    def dft(self, x):
        return (1 - x * x).rsqrt()


class Acos(_Unary):
    f = staticmethod(np.arccos)

    @staticmethod
    def df(a):
        return -1 / np.sqrt(1 - a * a)

    def dft(self, x):
        return -(1 - x * x).rsqrt()


class Atan(_Unary):
    f = staticmethod(np.arctan)

    @staticmethod
    def df(a):
        return 1 / (1 + a * a)

    def dft(self, x):
        return 1 / (1 + x * x)


class Sinh(_Unary):
    f, df = staticmethod(np.sinh), staticmethod(np.cosh)

    def dft(self, x):
        return x.cosh()


class Cosh(_Unary):
    f, df = staticmethod(np.cosh), staticmethod(np.sinh)

    def dft(self, x):
        return x.sinh()


class Log1p(_Unary):
    f = staticmethod(np.log1p)

    @staticmethod
    def df(a):
        return 1 / (1 + a)

    def dft(self, x):
        return 1 / (1 + x)


class Expm1(_Unary):
    f, df = staticmethod(np.expm1), staticmethod(np.exp)

    def dft(self, x):
        return x.exp()


def _erf(a: np.ndarray) -> np.ndarray:
    """The error function: SciPy's when it is installed, else math.erf per element (exact, and
    slower; erf appears in GELU and in statistics, not in the lectures' hot paths)."""
    try:
        from scipy.special import erf
    except ImportError:
        return np.vectorize(math.erf, otypes=[np.float64])(a).astype(a.dtype, copy=False)
    return erf(a)


class Erf(_Unary):
    f = staticmethod(_erf)

    @staticmethod
    def df(a):
        return (2 / math.sqrt(math.pi)) * np.exp(-a * a)

    def dft(self, x):
        return (-(x * x)).exp() * (2 / math.sqrt(math.pi))


class Rounding(Function):
    """floor, ceil, round (half to even, as PyTorch), trunc: piecewise constant, so their
    gradient is 0, as in PyTorch."""

    saves = ()
    _functions = {"floor": np.floor, "ceil": np.ceil, "round": np.round, "trunc": np.trunc}

    def forward(self, a, mode="floor", decimals=0):
        self.shape = a.shape
        if mode == "round" and decimals:
            return np.round(a, decimals)
        return self._functions[mode](a)

    def backward(self, g):
        return np.zeros(self.shape, dtype=g.dtype)

    def vjp(self, g):
        return g * 0


class Atan2(Function):
    """atan2(a, b), the angle of (b, a): d/da = b / (a^2 + b^2), d/db = -a / (a^2 + b^2)."""

    saves = (0, 1)

    def forward(self, a, b):
        self.a, self.b = a, b
        return np.arctan2(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        with np.errstate(divide="ignore", invalid="ignore"):
            r = a * a + b * b
            return unbroadcast(g * b / r, a.shape), unbroadcast(-g * a / r, b.shape)

    def vjp(self, g):
        a, b = self.parents
        r = a * a + b * b
        return sum_to(g * b / r, a.shape), sum_to(-g * a / r, b.shape)


class NanToNum(Function):
    """nan -> ``nan``, +inf -> ``posinf``, -inf -> ``neginf``; the gradient passes where the
    input was finite."""

    saves = ()

    def forward(self, a, nan=0.0, posinf=None, neginf=None):
        self.finite = np.isfinite(a)
        return np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    def backward(self, g):
        return g * self.finite

    def vjp(self, g):
        return g * constant(self.finite.astype(g.array.dtype))
