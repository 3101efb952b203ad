"""In-place operations: ``x.add_(y)``, ``x.mul_(2)``, ``x.zero_()``, ``x[i] = v``...

Each writes into the tensor's own memory (so its views see the change) and bumps its version,
shared with those views: a backward that saved the old values then raises PyTorch's "modified
by an inplace operation" error instead of computing a wrong gradient.

When autograd is recording (the tensor, or an operand, requires grad), the op is computed out of
place on a snapshot of the tensor that keeps its history, the result is copied into the tensor's
memory, and the tensor takes the op's place in the graph (PyTorch "rebases" its history the same
way). A leaf that requires grad cannot be changed in place outside ``no_grad()``, as in PyTorch.
Otherwise the NumPy ufunc writes straight into the memory (``out=``), with PyTorch's rule that
the result type must be castable to the tensor's (an int tensor cannot take ``add_(0.5)``).

>>> with dn.no_grad():
...     w.add_(w.grad, alpha=-0.1)          # an SGD step, written the PyTorch way
"""

from __future__ import annotations

import numbers

import numpy as np

from deepnum import dtypes
from deepnum.autograd import views
from deepnum.autograd.grad_mode import _grad_mode, no_grad
from deepnum.random import get_rng
from deepnum.tensor import Tensor, _as_array


def bump(t: Tensor) -> None:
    (t if t._base is None else t._base)._version += 1


def _check_leaf(t: Tensor) -> None:
    if t.requires_grad and t._ctx is None and _grad_mode.enabled:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                           "operation.")


def _recording(t: Tensor, *others) -> bool:
    return _grad_mode.enabled and (t.requires_grad or any(
        isinstance(o, Tensor) and o.requires_grad for o in others))


def _cast_error(result_dtype, t: Tensor) -> RuntimeError:
    return RuntimeError(f"result type {dtypes.as_dtype(result_dtype).name.capitalize()} can't "
                        f"be cast to the desired output type {t.dtype.name.capitalize()}")


def _check_castable(result_dtype, t: Tensor) -> None:
    if dtypes.category(np.dtype(result_dtype)) > dtypes.category(t.array.dtype):
        raise _cast_error(result_dtype, t)


def _snapshot(t: Tensor) -> Tensor:
    """t's node in the graph with a copy of its current values (the op may keep them)."""
    before = Tensor._wrap(t.array.copy())
    before.requires_grad, before._ctx, before._index = t.requires_grad, t._ctx, t._index
    return before


def rebase(t: Tensor, out: Tensor) -> Tensor:
    """t takes ``out``'s values, in its own memory, and ``out``'s place in the graph."""
    _check_castable(out.array.dtype, t)
    try:
        np.copyto(t.array, out.array, casting="unsafe")
    except ValueError as error:  # a broadcast view, or out does not fit t's shape
        raise RuntimeError(f"in-place operation: {error}") from None
    t._ctx, t._index, t.requires_grad = out._ctx, out._index, out.requires_grad
    bump(t)
    if t._base is not None or getattr(t, "_views", None):
        views.after_inplace(t, out)  # the tensors sharing t's memory follow its new history
    return t


def apply_(t: Tensor, fn, *args, **kwargs) -> Tensor:
    """t <- fn(t, *args, **kwargs), in place."""
    _check_leaf(t)
    if _recording(t, *args, *kwargs.values()):
        return rebase(t, fn(_snapshot(t), *args, **kwargs))
    with no_grad():
        out = fn(t, *args, **kwargs)
    _check_castable(out.array.dtype, t)
    _write(t, out.array)
    return t


def _write(t: Tensor, values) -> None:
    try:
        np.copyto(t.array, values, casting="unsafe")
    except ValueError as error:
        raise RuntimeError(f"in-place operation: {error}") from None
    bump(t)


def _operand(t: Tensor, other):
    """other as an array (or number) for a ufunc writing into t, after PyTorch's cast check."""
    if isinstance(other, Tensor):
        _check_castable(dtypes.result_type(t, other), t)
        return other.array
    if isinstance(other, numbers.Number):
        _check_castable(dtypes.result_type(t, other), t)
        return other
    array = _as_array(other)
    _check_castable(dtypes.result_type(t, array), t)
    return array


def _ufunc_(t: Tensor, ufunc, other) -> Tensor:
    value = _operand(t, other)
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            ufunc(t.array, value, out=t.array, casting="unsafe")
    except ValueError as error:  # a shape that does not broadcast into t, or a read-only view
        raise RuntimeError(f"in-place operation on a tensor of shape {tuple(t.shape)}: "
                           f"{error}") from None
    bump(t)
    return t


def add_(t: Tensor, other, alpha=1) -> Tensor:
    from deepnum.functions.pointwise import add

    if _recording(t, other):
        _check_leaf(t)
        return rebase(t, add(_snapshot(t), other, alpha=alpha))
    if alpha != 1:
        other = (other.array if isinstance(other, Tensor) else np.asarray(other)) * alpha
        if isinstance(other, np.ndarray) and other.dtype.kind == "f" and \
                t.array.dtype.kind == "f":
            other = other.astype(t.array.dtype, copy=False)
    return _ufunc_(t, np.add, other)


def mul_(t: Tensor, other) -> Tensor:
    from deepnum.functions.pointwise import mul

    if _recording(t, other):
        _check_leaf(t)
        return rebase(t, mul(_snapshot(t), other))
    return _ufunc_(t, np.multiply, other)


def div_(t: Tensor, other, rounding_mode=None) -> Tensor:
    from deepnum.functions.pointwise import div

    if _recording(t, other) or rounding_mode is not None:
        return apply_(t, div, other, rounding_mode=rounding_mode)
    if t.array.dtype.kind in "iub":
        raise _cast_error(dtypes.default_float(), t)
    return _ufunc_(t, np.true_divide, other)


def clamp_(t: Tensor, low=None, high=None) -> Tensor:
    from deepnum.functions.pointwise import clamp

    if _recording(t, low, high) or isinstance(low, Tensor) or isinstance(high, Tensor):
        return apply_(t, clamp, low, high)
    if low is None and high is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    np.clip(t.array, low, high, out=t.array)
    bump(t)
    return t


def _overwrite(t: Tensor, values: Tensor) -> Tensor:
    """t <- values (broadcast) as a recorded op: the gradient goes to ``values``, and 0 to t's
    past (not nothing: t stays in the graph, as torch's FillBackward and CopyBackwards)."""
    from deepnum.ops.elementwise import Where

    values = values if values.array.dtype == t.array.dtype else values.astype(t.dtype)
    return rebase(t, Where.apply(values, _snapshot(t), condition=np.ones((), dtype=bool)))


def fill_(t: Tensor, value) -> Tensor:
    _check_leaf(t)
    if isinstance(value, Tensor):
        if value.array.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor "
                               f"with {value.ndim} dimensions.")
        if _recording(t, value):
            return _overwrite(t, value)
        value = value.array
    if _recording(t):
        return _overwrite(t, Tensor._wrap(np.asarray(value).astype(t.array.dtype)))
    t.array[...] = value
    bump(t)
    return t


def copy_(t: Tensor, src) -> Tensor:
    _check_leaf(t)
    if _recording(t, src):
        return _overwrite(t, src if isinstance(src, Tensor) else Tensor._wrap(_as_array(src)))
    _write(t, src.array if isinstance(src, Tensor) else _as_array(src))
    return t


def random_(t: Tensor, kind: str, a=None, b=None, generator=None) -> Tensor:
    """Fill t from deepnum's seeded generator (or ``generator``): normal(a=mean, b=std),
    uniform [a, b), bernoulli(p=a), exponential(lambda=a), integers [a, b) (b None: [0, a))."""
    _check_leaf(t)
    rng = generator.rng if generator is not None else get_rng()
    shape = t.shape
    if kind == "normal":
        values = rng.normal(a, b, size=shape)
    elif kind == "uniform":
        values = rng.uniform(a, b, size=shape)
    elif kind == "bernoulli":
        p = a.array if isinstance(a, Tensor) else a
        values = rng.random(size=shape) < p
    elif kind == "exponential":
        values = rng.exponential(1.0 / a, size=shape)
    else:
        low, high = (0, a) if b is None else (a, b)
        if high is None:
            high = 2 ** (8 * t.array.itemsize - 1) if t.array.dtype.kind != "f" else 2 ** 24
        values = rng.integers(low, high, size=shape)
    with no_grad():
        t.array[...] = values
    bump(t)
    return t


def fill_diagonal_(t: Tensor, value, wrap: bool = False) -> Tensor:
    _check_leaf(t)
    np.fill_diagonal(t.array, value, wrap=wrap)
    bump(t)
    return t


def reshape_(t: Tensor, shape) -> Tensor:
    """unsqueeze_/squeeze_: the same memory under a new shape."""
    if _recording(t):
        from deepnum.functions.shape import reshape

        out = reshape(_snapshot(t), shape)
        t.array = t.array.reshape(shape)
        return rebase(t, out)
    t.array = t.array.reshape(shape)
    return t


def restride_(t: Tensor, fn) -> Tensor:
    """t_/transpose_: t becomes ``fn(t)``, a view of its own memory in a new layout; with
    gradients recorded, its history becomes fn of the old one (the gradient is transposed back)."""
    with no_grad():
        layout = fn(Tensor._wrap(t.array)).array  # the same memory, seen transposed
    if _recording(t):
        out = fn(_snapshot(t))
        t.array = layout
        return rebase(t, out)
    t.array = layout
    bump(t)
    return t


def set_(t: Tensor, array: np.ndarray) -> Tensor:
    _check_leaf(t)
    t.array = array
    bump(t)
    return t


def resize_(t: Tensor, shape) -> Tensor:
    """New shape; the first elements are kept and the rest are zeros."""
    _check_leaf(t)
    new = np.zeros(shape, dtype=t.array.dtype)
    n = min(new.size, t.array.size)
    new.reshape(-1)[:n] = t.array.reshape(-1)[:n]
    t.array = new
    bump(t)
    return t
