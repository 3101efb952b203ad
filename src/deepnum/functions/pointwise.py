"""Elementwise functions of tensors and numbers (``dn.add``, ``dn.exp``, ``dn.where`` ...), with
PyTorch's type promotion: the operands are cast to ``dtypes.result_type`` first (a recorded,
differentiable cast), then the op runs on one dtype. Comparisons and logical functions are in
:mod:`deepnum.functions.comparison`.

>>> dn.add(x, y, alpha=2)          # x + 2 y
>>> dn.tensor([1, 2]) + 0.5        # tensor([1.5, 2.5]), float32
"""

from __future__ import annotations

import builtins
import numbers

import numpy as np

from deepnum import dtypes, fast
from deepnum.ops import elementwise as ew
from deepnum.ops import unary
from deepnum.ops.movement import Cast
from deepnum.tensor import Tensor, _as_array


def as_tensor_like(x, like: Tensor | None = None) -> Tensor:
    """A Tensor for ``x``; a Python number takes ``like``'s dtype when that keeps its category."""
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, numbers.Number):
        return Tensor._wrap(np.asarray(x, dtype=dtypes.result_type(like, x)))
    return Tensor._wrap(_as_array(x))


def _cast(t: Tensor, dtype: np.dtype) -> Tensor:
    return t if t.array.dtype == dtype else Cast.apply(t, dtype=dtype)


def promote(a, b) -> tuple[Tensor, Tensor]:
    """Both operands as tensors of their PyTorch result type (no cast when they agree)."""
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        if a.array.dtype is b.array.dtype:  # the hot path: no promotion needed
            return a, b
        dtype = dtypes.result_type(a, b)
        return _cast(a, dtype), _cast(b, dtype)
    if isinstance(a, Tensor) and isinstance(b, numbers.Number):
        dtype = a.array.dtype if _keeps(a.array.dtype, b) else dtypes.result_type(a, b)
        return _cast(a, dtype), Tensor._wrap(_scalar_array(b, dtype))
    if isinstance(b, Tensor) and isinstance(a, numbers.Number):
        dtype = b.array.dtype if _keeps(b.array.dtype, a) else dtypes.result_type(a, b)
        return Tensor._wrap(_scalar_array(a, dtype)), _cast(b, dtype)
    a = a if isinstance(a, Tensor) else Tensor._wrap(_as_array(a))
    b = b if isinstance(b, Tensor) else Tensor._wrap(_as_array(b))
    return promote(a, b)


def _scalar_array(number, dtype: np.dtype) -> np.ndarray:
    try:
        return np.asarray(number, dtype=dtype)
    except OverflowError:  # uint8 tensor + -3, int8 tensor + 300: wrapped around, as in torch
        return np.asarray(number).astype(dtype)


def _keeps(dtype: np.dtype, number) -> bool:
    """Whether a Python number leaves a tensor's dtype as it is (same or lower category)."""
    kind = dtype.kind
    if kind in "fc":
        return True
    if isinstance(number, (builtins.bool, np.bool_)):
        return True
    if kind in "iu":
        return isinstance(number, numbers.Integral)
    return False  # a bool tensor with an int or float


def _floating(t: Tensor) -> Tensor:
    """Integer and bool inputs of a floating function (exp, sqrt, /) become the default float."""
    return t if t.array.dtype.kind in "fc" else Cast.apply(t, dtype=dtypes.default_float())


def _unary_input(x) -> Tensor:
    return _floating(x if isinstance(x, Tensor) else Tensor._wrap(_as_array(x)))


# ---------------------------------------------------------------------------- arithmetic
def add(input, other, *, alpha=1, out=None):
    if alpha != 1:
        other = mul(other, alpha)
    return _out(ew.Add.apply(*promote(input, other)), out)


def sub(input, other, *, alpha=1, out=None):
    if alpha != 1:
        other = mul(other, alpha)
    a, b = promote(input, other)
    if a.array.dtype == np.bool_ or _is_bool(input) or _is_bool(other):
        _bool_subtraction(input, other)
    return _out(ew.Sub.apply(a, b), out)


def _is_bool(x) -> builtins.bool:
    return isinstance(x, (builtins.bool, np.bool_)) or (isinstance(x, Tensor)
                                                         and x.array.dtype == np.bool_)


def _bool_subtraction(a, b):
    """PyTorch refuses - with a bool operand: a mask is inverted with ~, not 1 - mask."""
    if _is_bool(a) and _is_bool(b):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not "
                           "supported. Use the `^` or `logical_xor()` operator instead.")
    raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If "
                       "you are trying to invert a mask, use the `~` or `logical_not()` operator "
                       "instead.")


subtract = sub


def mul(input, other, *, out=None):
    return _out(ew.Mul.apply(*promote(input, other)), out)


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    """True division (integers give the default float, as PyTorch); ``rounding_mode`` 'floor'
    or 'trunc' rounds the quotient."""
    a, b = promote(input, other)
    if rounding_mode is None:
        return _out(ew.Div.apply(_floating(a), _floating(b)), out)
    if rounding_mode not in ("floor", "trunc"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                         f"found '{rounding_mode}'")
    if a.array.dtype.kind in "iub":
        _integer_division(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            q = np.floor_divide(a.array, b.array) if rounding_mode == "floor" else (
                np.trunc(a.array / b.array).astype(a.array.dtype))
        return _out(Tensor._wrap(q), out)
    return _out(unary.Rounding.apply(ew.Div.apply(a, b), mode=rounding_mode), out)


divide = true_divide = div


def floor_divide(input, other):
    return div(input, other, rounding_mode="floor")


def remainder(input, other):
    """a - floor(a / b) b (the sign of b, as Python's % and torch.remainder)."""
    a, b = promote(input, other)
    if a.array.dtype.kind in "iub":
        _integer_division(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return Tensor._wrap(np.mod(a.array, b.array))
    return a - unary.Rounding.apply(ew.Div.apply(a, b), mode="floor") * b


def fmod(input, other):
    """a - trunc(a / b) b (the sign of a, as C's fmod and torch.fmod; remainder has b's)."""
    a, b = promote(input, other)
    if a.array.dtype.kind in "iub":
        _integer_division(b)
        with np.errstate(divide="ignore", invalid="ignore"):
            return Tensor._wrap(np.fmod(a.array, b.array))
    return a - unary.Rounding.apply(ew.Div.apply(a, b), mode="trunc") * b


def _integer_division(divisor: Tensor) -> None:
    if not divisor.array.all():  # integers have no inf: torch refuses, NumPy would give 0
        raise RuntimeError("ZeroDivisionError")


def pow(input, exponent):  # noqa: A001 - PyTorch's name
    a, b = promote(input, exponent)
    if a.array.dtype == np.bool_:  # bool ** bool stays bool (NumPy would give int8)
        return Tensor._wrap(a.array | ~b.array)
    if isinstance(input, Tensor) and isinstance(exponent, numbers.Number) \
            and not isinstance(exponent, builtins.bool):
        if a.array.dtype.kind in "iu" and exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        return ew.PowScalar.apply(a, exponent=exponent)
    return ew.Pow.apply(a, b)


def neg(input):
    t = _tensor(input)
    if t.array.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If "
                           "you are trying to invert a mask, use the `~` or `logical_not()` "
                           "operator instead.")
    return ew.Neg.apply(t)


negative = neg


def abs(input):  # noqa: A001
    return ew.Abs.apply(_tensor(input))


absolute = abs


def square(input):
    return mul(input, input)


def reciprocal(input):
    return div(1.0, _unary_input(input))


def lerp(input, end, weight):
    """input + weight (end - input)."""
    return add(input, mul(weight, sub(end, input)))


def addcmul(input, tensor1, tensor2, *, value=1):
    return add(input, mul(tensor1, tensor2), alpha=value)


def addcdiv(input, tensor1, tensor2, *, value=1):
    return add(input, div(tensor1, tensor2), alpha=value)


def hypot(input, other):
    return sqrt(add(square(input), square(other)))


def logaddexp(input, other):
    """log(e^a + e^b), shifted by the larger so neither overflows."""
    a, b = promote(_unary_input(input), other)
    high = maximum(a, b).detach()
    return add(log(add(exp(sub(a, high)), exp(sub(b, high)))), high)


def xlogy(input, other):
    """x log y, 0 where x = 0 (even where y is 0 or nan), as torch.xlogy."""
    x, y = promote(_unary_input(input), other)
    with np.errstate(invalid="ignore"):  # 0 log 0 is nan before where() replaces it
        return where(x.array == 0, 0.0, mul(x, log(y)))


def positive(input):
    return _tensor(input)


def _tensor(x) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor._wrap(_as_array(x))


def _out(result: Tensor, out) -> Tensor:
    """``out=``: write the result into that tensor (as PyTorch), outside autograd."""
    if out is None:
        return result
    if result.requires_grad and out.requires_grad:
        raise RuntimeError("functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")
    if out.array.shape != result.array.shape:  # PyTorch resizes out to the result's shape
        out.array = np.empty(result.array.shape, dtype=out.array.dtype)
    np.copyto(out.array, result.array, casting="same_kind")
    (out if out._base is None else out._base)._version += 1
    return out


# ---------------------------------------------------------------------------- exp, log, ...
def exp(input):
    return ew.Exp.apply(_unary_input(input))


def exp2(input):
    return pow(2.0, _unary_input(input))


def expm1(input):
    return unary.Expm1.apply(_unary_input(input))


def log(input):
    return ew.Log.apply(_unary_input(input))


def log2(input):
    return log(input) * (1 / np.log(2))


def log10(input):
    return log(input) * (1 / np.log(10))


def log1p(input):
    return unary.Log1p.apply(_unary_input(input))


def sqrt(input):
    return ew.Sqrt.apply(_unary_input(input))


def rsqrt(input):
    return div(1.0, sqrt(input))


def sin(input):
    return unary.Sin.apply(_unary_input(input))


def cos(input):
    return unary.Cos.apply(_unary_input(input))


def tan(input):
    return unary.Tan.apply(_unary_input(input))


def asin(input):
    return unary.Asin.apply(_unary_input(input))


def acos(input):
    return unary.Acos.apply(_unary_input(input))


def atan(input):
    return unary.Atan.apply(_unary_input(input))


arcsin, arccos, arctan = asin, acos, atan


def atan2(input, other):
    a, b = promote(_unary_input(input), other)
    return unary.Atan2.apply(_floating(a), _floating(b))


arctan2 = atan2


def sinh(input):
    return unary.Sinh.apply(_unary_input(input))


def cosh(input):
    return unary.Cosh.apply(_unary_input(input))


def tanh(input):
    return ew.Tanh.apply(_unary_input(input))


def sigmoid(input):
    return ew.Sigmoid.apply(_unary_input(input))


def relu(input):
    return fast.choose(ew.ReLU).apply(_tensor(input))  # the speed wing's, for large arrays


def erf(input):
    return unary.Erf.apply(_unary_input(input))


def sign(input):
    t = _tensor(input)
    return t.clone() if t.array.dtype == np.bool_ else ew.Sign.apply(t)


def _rounding(mode):
    def rounding(input, decimals: int = 0):
        t = _tensor(input)
        if t.array.dtype.kind in "iub":
            return t.clone()
        return unary.Rounding.apply(t, mode=mode, decimals=decimals)

    rounding.__name__ = mode
    rounding.__doc__ = f"{mode} of each element; its gradient is 0, as in PyTorch."
    return rounding


floor, ceil, round, trunc = (_rounding(m) for m in ("floor", "ceil", "round", "trunc"))  # noqa: A001
fix = trunc


def frac(input):
    return sub(input, trunc(input))


def clamp_min(input, min):  # noqa: A002
    return clamp(input, min, None)


def clamp_max(input, max):  # noqa: A002
    return clamp(input, None, max)


def clamp(input, min=None, max=None):  # noqa: A002
    """Each element into [min, max]; the gradient passes where it was inside (bounds included).
    The bounds may be numbers or tensors."""
    t = _tensor(input)
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if isinstance(min, Tensor) or isinstance(max, Tensor):
        out = t if min is None else maximum(t, min)
        return out if max is None else minimum(out, max)
    if t.array.dtype.kind in "iub":  # int.clamp(0.5) is float, as torch promotes
        t = _cast(t, dtypes.result_type(t, *(b for b in (min, max) if b is not None)))
    return ew.Clip.apply(t, low=min, high=max)


clip = clamp


def maximum(input, other):
    """Elementwise max; on ties the gradient goes half to each side, as torch.maximum."""
    a, b = promote(input, other)
    if a.array.dtype.kind in "iub":
        return Tensor._wrap(np.maximum(a.array, b.array))
    return (where(a.array > b.array, a, b) + where(a.array < b.array, b, a)) * 0.5


def minimum(input, other):
    a, b = promote(input, other)
    if a.array.dtype.kind in "iub":
        return Tensor._wrap(np.minimum(a.array, b.array))
    return -maximum(-a, -b)


def where(condition, input=None, other=None):
    """Elements of ``input`` where ``condition`` holds, of ``other`` elsewhere (gradient to
    both); with only a condition, the indices where it holds (as torch.where)."""
    cond = condition.array if isinstance(condition, Tensor) else np.asarray(condition)
    if input is None and other is None:
        return tuple(Tensor._wrap(i) for i in np.nonzero(cond))
    a, b = promote(input, other)
    return ew.Where.apply(a, b, condition=cond.astype(builtins.bool, copy=False))


def nan_to_num(input, nan=0.0, posinf=None, neginf=None):
    return unary.NanToNum.apply(_tensor(input), nan=nan, posinf=posinf, neginf=neginf)
