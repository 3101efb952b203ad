"""Comparisons, predicates and logical functions (``x < y``, ``dn.isnan``, ``dn.allclose``,
``&``/``|``/``~`` ...): boolean (or integer) results outside the graph, as in PyTorch.

>>> (x > 0) & ~dn.isnan(x)
"""

from __future__ import annotations

import builtins

import numpy as np

from deepnum.functions.pointwise import _tensor, promote
from deepnum.tensor import Tensor


def compare(op, a, b) -> Tensor:
    a_array = a.array if isinstance(a, Tensor) else np.asarray(a)
    b_array = b.array if isinstance(b, Tensor) else b
    return Tensor._wrap(np.asarray(op(a_array, b_array)))


def logical_op(op, a, b) -> Tensor:
    x, y = promote(a, b)
    if x.array.dtype.kind in "fc":  # NotImplementedError, as torch's "bitwise_and_cpu" ...
        raise NotImplementedError(f"{op.__name__} is only for integer and boolean tensors, got "
                                  f"{x.dtype}")
    return Tensor._wrap(op(x.array, y.array))


def bitwise_not(input) -> Tensor:
    t = _tensor(input)
    if t.array.dtype.kind in "fc":
        raise TypeError(f"~ (bitwise_not) is only for integer and boolean tensors, got {t.dtype}")
    return Tensor._wrap(np.invert(t.array))


def logical_not(input) -> Tensor:
    return Tensor._wrap(np.logical_not(_tensor(input).array))


def logical_and(input, other) -> Tensor:
    return Tensor._wrap(np.logical_and(_tensor(input).array, _tensor(other).array))


def logical_or(input, other) -> Tensor:
    return Tensor._wrap(np.logical_or(_tensor(input).array, _tensor(other).array))


def logical_xor(input, other) -> Tensor:
    return Tensor._wrap(np.logical_xor(_tensor(input).array, _tensor(other).array))


def isnan(input) -> Tensor:
    return Tensor._wrap(np.isnan(_tensor(input).array))


def isinf(input) -> Tensor:
    return Tensor._wrap(np.isinf(_tensor(input).array))


def isfinite(input) -> Tensor:
    return Tensor._wrap(np.isfinite(_tensor(input).array))


def isclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False) -> Tensor:
    return Tensor._wrap(np.isclose(_tensor(input).array, _tensor(other).array, rtol, atol,
                                   equal_nan))


def allclose(input, other, rtol=1e-5, atol=1e-8, equal_nan=False) -> builtins.bool:
    return builtins.bool(np.allclose(_tensor(input).array, _tensor(other).array, rtol, atol,
                                     equal_nan))


def equal(input, other) -> builtins.bool:
    a, b = _tensor(input).array, _tensor(other).array
    return a.shape == b.shape and builtins.bool(np.array_equal(a, b))


def eq(input, other):
    return compare(np.equal, input, other)


def ne(input, other):
    return compare(np.not_equal, input, other)


def lt(input, other):
    return compare(np.less, input, other)


def le(input, other):
    return compare(np.less_equal, input, other)


def gt(input, other):
    return compare(np.greater, input, other)


def ge(input, other):
    return compare(np.greater_equal, input, other)


greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def heaviside(input, values):
    """The step function: 0 where input < 0, ``values`` where it is 0, 1 where it is > 0; both
    of one dtype (no derivative, as in PyTorch).

    >>> x = dn.tensor([-1.0, 0.0, 2.0])
    >>> dn.heaviside(x, dn.tensor(0.5))                              # tensor([0., 0.5, 1.])
    """
    from deepnum.ops.elementwise import Heaviside

    x, v = _tensor(input), _tensor(values)
    if x.array.dtype != v.array.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    if x.array.dtype.kind == "c":
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    try:
        np.broadcast_shapes(x.shape, v.shape)
    except ValueError:
        raise RuntimeError(f"heaviside: the shapes {tuple(x.shape)} and {tuple(v.shape)} cannot "
                           f"be broadcast") from None
    if not (x.requires_grad or v.requires_grad):
        return Tensor._wrap(np.heaviside(x.array, v.array).astype(x.array.dtype, copy=False))
    return Heaviside.apply(x, v)
