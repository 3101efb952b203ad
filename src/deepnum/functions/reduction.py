"""Reductions with PyTorch's signatures and results: ``sum``/``mean``/``prod``, ``max``/``min``
(``values, indices`` along a dim), ``var``/``std``, ``norm``, ``logsumexp``, running sums,
sorting and selection (``sort``, ``topk``, ``median``, ``mode`` ...), softmax.

>>> values, indices = x.max(dim=1)      # a named tuple, as torch.return_types.max
>>> x.var(dim=0, unbiased=False)        # the biased variance
"""

from __future__ import annotations

import builtins
import math

import numpy as np

from deepnum import dtypes
from deepnum import return_types as rt
from deepnum.functions.pointwise import (
    _cast,
    _tensor,
    abs,
    exp,
    log,
    maximum,
    minimum,
    sqrt,
    where,
)
from deepnum.ops import index as index_ops
from deepnum.ops import reduce as ops
from deepnum.ops.reduce import _axes
from deepnum.tensor import Tensor


def _dims(dim):
    return None if dim is None or (isinstance(dim, (tuple, list)) and not dim) else dim


def _as_vector(fn, t: Tensor, dim, *args):
    """fn on a 0-d tensor seen as a 1-element vector (dim 0 or -1), its results 0-d again, as
    torch's reductions along a dim of a scalar."""
    _axes(dim, 0)
    result = fn(t.reshape(1), 0, *args)
    if isinstance(result, tuple):
        return type(result)(*(r.reshape(()) for r in result))
    return result.reshape(())


def _with_dtype(t: Tensor, dtype) -> Tensor:
    return t if dtype is None else _cast(t, dtypes.as_dtype(dtype).numpy)


def sum(input, dim=None, keepdim: bool = False, *, dtype=None, axis=None):  # noqa: A001
    """Sum over ``dim`` (an int, a tuple, or None for all); integers and bools sum to int64."""
    dim = axis if dim is None else dim  # torch takes NumPy's name too
    t = _with_dtype(_tensor(input), dtype)
    if t.array.dtype.kind in "iub" and dtype is None:
        return Tensor._wrap(np.asarray(np.sum(t.array, axis=_axes(_dims(dim), t.ndim),
                                              keepdims=keepdim, dtype=np.int64)))
    return ops.Sum.apply(t, axis=_dims(dim), keepdims=keepdim)


def mean(input, dim=None, keepdim: bool = False, *, dtype=None, axis=None):
    dim = axis if dim is None else dim
    t = _with_dtype(_tensor(input), dtype)
    if t.array.dtype.kind not in "fc":
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a "
                           f"floating point or complex dtype. Got: {t.dtype.name.capitalize()}")
    return ops.Mean.apply(t, axis=_dims(dim), keepdims=keepdim)


def nansum(input, dim=None, keepdim: bool = False):
    t = _tensor(input)
    return sum(t.nan_to_num(0.0) if t.array.dtype.kind == "f" else t, dim, keepdim)


def nanmean(input, dim=None, keepdim: bool = False):
    """The mean of the values that are not NaN."""
    t = _tensor(input)
    counts = sum((t == t).astype(t.dtype), dim, keepdim)
    return nansum(t, dim, keepdim) / counts


def prod(input, dim=None, keepdim: bool = False, *, dtype=None):
    t = _with_dtype(_tensor(input), dtype)
    if t.array.dtype.kind in "iub" and dtype is None:
        return Tensor._wrap(np.asarray(np.prod(t.array, axis=dim, keepdims=keepdim,
                                               dtype=np.int64)))
    axis = None if dim is None else int(dim) % builtins.max(t.ndim, 1)
    if t.ndim == 0:
        axis = None
    return ops.Prod.apply(t, axis=axis, keepdims=keepdim)


def _extreme(input, dim, keepdim, other, largest: bool):
    t = _tensor(input)
    if isinstance(dim, Tensor) or other is not None:  # max(a, b): the binary form
        b = other if other is not None else dim
        return maximum(t, b) if largest else minimum(t, b)
    if dim is None:
        return ops.Max.apply(t, minimum=not largest)
    axis = _axes(dim, t.ndim)[0] if t.ndim else 0
    arg = _arg(t, axis, largest)
    values = _pick(t, arg, axis, keepdim)
    return (rt.max if largest else rt.min)(values, Tensor._wrap(arg if keepdim or not t.ndim
                                                                 else np.squeeze(arg, axis)))


def _arg(t: Tensor, axis: int, largest: bool) -> np.ndarray:
    if t.array.size == 0:
        raise IndexError(f"max(): Expected reduction dim {axis} to have non-zero size.")
    a = t.array if t.ndim else t.array.reshape(1)
    arg = (np.argmax if largest else np.argmin)(a, axis=axis, keepdims=True)
    return arg if t.ndim else arg.reshape(())


def _pick(t: Tensor, index: np.ndarray, axis: int, keepdim: bool) -> Tensor:
    """t's values at ``index`` (keepdims-shaped) along ``axis``; the gradient goes there."""
    if not t.ndim:
        return t.clone()
    values = index_ops.Gather.apply(t, index=index, dim=axis)
    return values if keepdim else values.squeeze(axis)


def max(input, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """The largest value (no dim), ``(values, indices)`` along ``dim``, or max(a, b)."""
    return _extreme(input, dim, keepdim, other, True)


def min(input, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    return _extreme(input, dim, keepdim, other, False)


def amax(input, dim=(), keepdim: bool = False):
    """The maximum over ``dim`` (all dims when empty); ties share the gradient."""
    return ops.Max.apply(_tensor(input), axis=_dims(dim), keepdims=keepdim)


def amin(input, dim=(), keepdim: bool = False):
    return ops.Max.apply(_tensor(input), axis=_dims(dim), keepdims=keepdim, minimum=True)


def aminmax(input, *, dim=None, keepdim: bool = False):
    return rt.aminmax(amin(input, () if dim is None else dim, keepdim),
                      amax(input, () if dim is None else dim, keepdim))


def argmax(input, dim=None, keepdim: bool = False):
    t = _tensor(input)
    if dim is None:
        return Tensor._wrap(np.asarray(np.argmax(t.array)))
    return Tensor._wrap(np.argmax(t.array, axis=dim, keepdims=keepdim))


def argmin(input, dim=None, keepdim: bool = False):
    t = _tensor(input)
    if dim is None:
        return Tensor._wrap(np.asarray(np.argmin(t.array)))
    return Tensor._wrap(np.argmin(t.array, axis=dim, keepdims=keepdim))


def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """sum (x - mean)^2 / (N - correction); ``unbiased=True`` (the default) is correction 1,
    Bessel's, as ``torch.var``."""
    t = _tensor(input)
    if isinstance(dim, builtins.bool) and unbiased is None:  # var(x, False): the old signature
        dim, unbiased = None, dim
    if correction is None:
        correction = 1 if unbiased is None or unbiased else 0
    axes = _axes(_dims(dim), t.ndim)
    n = int(np.prod([t.shape[a] for a in axes])) if t.ndim else 1
    centred = t - t.mean(axes if axes else None, keepdim=True) if t.ndim else t - t
    squares = (centred * centred).sum(axes if axes else None, keepdim=keepdim)
    return squares / builtins.max(n - correction, 0)


def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    return sqrt(var(input, dim, unbiased, keepdim, correction=correction))


def var_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None):
    """The p-norm over ``dim`` (all elements by default): 2/'fro' sqrt(sum x^2), 1, inf, -inf,
    0 (the count of nonzeros) or any p; 'nuc' for matrices."""
    t = _with_dtype(_tensor(input), dtype)
    if t.array.dtype.kind not in "fc":
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {t.dtype.name.capitalize()}")
    dim = _dims(dim)
    if p in ("fro", 2, 2.0, None):
        return ops.Norm2.apply(t, axis=dim, keepdims=keepdim)
    if p == "nuc":  # the sum of the singular values, differentiable (deepnum.linalg)
        from deepnum.linalg import matrix_norm

        return matrix_norm(t, "nuc", (-2, -1) if dim is None else dim, keepdim)
    if p == math.inf:
        return amax(abs(t), () if dim is None else dim, keepdim)
    if p == -math.inf:
        return amin(abs(t), () if dim is None else dim, keepdim)
    if p == 0:  # a count: in the graph (as PyTorch's), with a zero gradient
        count = sum((t != 0).astype(t.dtype), dim, keepdim)
        return where(Tensor._wrap(np.ones(count.shape, np.bool_)), count, sum(t, dim, keepdim))
    if p == 1:
        return sum(abs(t), dim, keepdim)
    return sum(abs(t) ** p, dim, keepdim) ** (1.0 / p)


def dist(input, other, p=2):
    return norm(_tensor(input) - other, p)


def logsumexp(input, dim, keepdim: bool = False):
    """log sum exp x over ``dim``, shifted by the max so e^x cannot overflow."""
    t = _tensor(input)
    shift = np.max(t.array, axis=_axes(dim, t.ndim), keepdims=True) if t.ndim else t.array
    shift = np.where(np.isfinite(shift), shift, 0)
    m = Tensor._wrap(shift.astype(t.array.dtype))
    out = log(exp(t - m).sum(dim, keepdim=True)) + m
    return out if keepdim else out.squeeze(dim)


def cumsum(input, dim, *, dtype=None):
    t = _with_dtype(_tensor(input), dtype)
    if not t.ndim:
        return _as_vector(cumsum, t, dim)
    if t.array.dtype.kind in "iub" and dtype is None:
        return Tensor._wrap(np.cumsum(t.array, axis=dim, dtype=np.int64))
    return ops.Cumsum.apply(t, axis=int(dim) % builtins.max(t.ndim, 1))


def cumprod(input, dim, *, dtype=None):
    t = _with_dtype(_tensor(input), dtype)
    if not t.ndim:
        return _as_vector(cumprod, t, dim)
    if t.array.dtype.kind in "iub" and dtype is None:
        return Tensor._wrap(np.cumprod(t.array, axis=dim, dtype=np.int64))
    return ops.Cumprod.apply(t, axis=int(dim) % builtins.max(t.ndim, 1))


def all(input, dim=None, keepdim: bool = False):  # noqa: A001
    t = _tensor(input)
    return Tensor._wrap(np.asarray(np.all(t.array, axis=dim, keepdims=keepdim)))


def any(input, dim=None, keepdim: bool = False):  # noqa: A001
    t = _tensor(input)
    return Tensor._wrap(np.asarray(np.any(t.array, axis=dim, keepdims=keepdim)))


def count_nonzero(input, dim=None):
    t = _tensor(input)
    return Tensor._wrap(np.asarray(np.count_nonzero(t.array, axis=dim), dtype=np.int64))


# ---------------------------------------------------------------------------- order statistics
def _sort_order(a: np.ndarray, axis: int, descending: bool, stable: bool) -> np.ndarray:
    """argsort along ``axis``; NaN counts as the largest value, as in torch (last ascending,
    first descending)."""
    kind = "stable" if stable or descending else None
    if descending:
        keys = -a.astype(np.float64 if a.dtype.kind in "ub" else a.dtype, copy=False)
        if a.dtype.kind == "f" and np.isnan(a).any():
            # -NaN is still NaN, which argsort puts last: sort by "is a number" first
            moved = np.moveaxis(keys, axis, -1)
            order = np.lexsort((moved, ~np.isnan(moved)), axis=-1)
            return np.moveaxis(order, -1, axis)
        return np.argsort(keys, axis=axis, kind=kind)
    return np.argsort(a, axis=axis, kind=kind)


def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """(values, indices) sorted along ``dim``; the gradient of a value goes where it came from."""
    t = _tensor(input)
    if not t.ndim:
        return rt.sort(t.clone(), Tensor._wrap(np.zeros((), np.int64)))
    axis = int(dim) % t.ndim
    order = _sort_order(t.array, axis, descending, stable)
    return rt.sort(index_ops.Gather.apply(t, index=order, dim=axis), Tensor._wrap(order))


def argsort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    t = _tensor(input)
    return Tensor._wrap(_sort_order(t.array, int(dim) % builtins.max(t.ndim, 1), descending,
                                    stable) if t.ndim else np.zeros((), np.int64))


def msort(input):
    return sort(input, 0).values


def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """The k largest (smallest) along ``dim``; among equal values the first occurrences, in
    order (torch's choice among ties depends on its selection algorithm)."""
    t = _tensor(input)
    if not t.ndim:
        return _as_vector(lambda v, d: topk(v, k, d, largest, sorted), t, dim)
    axis = int(dim) % builtins.max(t.ndim, 1)
    if not 0 <= k <= (t.shape[axis] if t.ndim else 1):
        raise RuntimeError("selected index k out of range")
    order = _sort_order(t.array, axis, largest, True)
    order = np.take(order, np.arange(k), axis=axis)
    return rt.topk(index_ops.Gather.apply(t, index=order, dim=axis), Tensor._wrap(order))


def kthvalue(input, k: int, dim: int = -1, keepdim: bool = False):
    """The k-th smallest value (1-based) along ``dim`` and its index."""
    t = _tensor(input)
    if not t.ndim:
        return _as_vector(lambda v, d: kthvalue(v, k, d, keepdim), t, dim)
    axis = _axes(dim, t.ndim)[0]
    if not 1 <= k <= t.shape[axis]:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {axis}")
    order = _sort_order(t.array, axis, False, True)
    index = np.take(order, [k - 1], axis=axis)
    values = index_ops.Gather.apply(t, index=index, dim=axis)
    return rt.kthvalue(values if keepdim else values.squeeze(axis),
                       Tensor._wrap(index if keepdim else np.squeeze(index, axis)))


def median(input, dim=None, keepdim: bool = False):
    """The lower median (the smaller middle value for an even count), as torch.median; with
    ``dim``, (values, indices). A NaN makes the median NaN (see nanmedian)."""
    return _median(input, dim, keepdim, rt.median, ignore_nan=False)


def nanmedian(input, dim=None, keepdim: bool = False):
    """The median of the values that are not NaN."""
    return _median(input, dim, keepdim, rt.nanmedian, ignore_nan=True)


def _median(input, dim, keepdim, result, ignore_nan):
    t = _tensor(input)
    if dim is None:
        return _median(t.reshape(-1), 0, False, result, ignore_nan).values
    if not t.ndim:
        return _as_vector(lambda v, d: _median(v, d, keepdim, result, ignore_nan), t, dim)
    axis = _axes(dim, t.ndim)[0]
    if not t.shape[axis]:
        raise IndexError(f"median(): Expected reduction dim {axis} to have non-zero size.")
    a = t.array
    order = _sort_order(a, axis, False, True)  # NaN last
    nans = np.isnan(a) if a.dtype.kind == "f" else np.zeros(a.shape, bool)
    count = nans.sum(axis=axis, keepdims=True)
    valid = t.shape[axis] - count if ignore_nan else np.full_like(count, t.shape[axis])
    index = np.take_along_axis(order, np.maximum((valid + 1) // 2 - 1, 0), axis)
    if not ignore_nan:  # a row with a NaN: its first NaN
        index = np.where(count > 0, np.argmax(nans, axis=axis, keepdims=True), index)
    values = index_ops.Gather.apply(t, index=index, dim=axis)
    return result(values if keepdim else values.squeeze(axis),
                  Tensor._wrap(index if keepdim else np.squeeze(index, axis)))


def mode(input, dim: int = -1, keepdim: bool = False):
    """The most frequent value along ``dim`` (the smallest among equally frequent ones) and the
    index of its last occurrence, as torch.mode."""
    t = _tensor(input)
    if not t.ndim:
        return _as_vector(lambda v, d: mode(v, d, keepdim), t, dim)
    axis = _axes(dim, t.ndim)[0]
    a = np.moveaxis(t.array, axis, -1)
    rows = a.reshape(-1, a.shape[-1])
    best = np.empty(len(rows), dtype=np.int64)
    for r, row in enumerate(rows):  # one row per output value (mode is rare, not a hot path)
        values, counts = np.unique(row, return_counts=True)
        winner = values[np.argmax(counts)]
        best[r] = np.flatnonzero(row == winner)[-1]
    index = np.expand_dims(best.reshape(a.shape[:-1]), axis)
    values = index_ops.Gather.apply(t, index=index, dim=axis)
    return rt.mode(values if keepdim else values.squeeze(axis),
                   Tensor._wrap(index if keepdim else np.squeeze(index, axis)))


def unique(input, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim=None):
    t = _tensor(input)
    found = np.unique(t.array, return_inverse=return_inverse, return_counts=return_counts,
                      axis=dim)
    if not (return_inverse or return_counts):
        return Tensor._wrap(found)
    values, *rest = found
    rest = [Tensor._wrap(r.reshape(t.shape) if return_inverse and i == 0 and dim is None
                         else r.astype(np.int64)) for i, r in enumerate(rest)]
    return (Tensor._wrap(values), *rest)


def bincount(input, weights=None, minlength: int = 0):
    """Counts of each value 0..max (weighted sums with ``weights``: their dtype if floating,
    else float64, as torch)."""
    a = _tensor(input).array
    if a.dtype.kind not in "iub":
        raise NotImplementedError(f'"bincount_cpu" not implemented for '
                                  f"'{dtypes.of(a).name.capitalize()}'")
    if a.ndim != 1 or (a.size and a.min() < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is None:
        return Tensor._wrap(np.bincount(a, None, minlength).astype(np.int64))
    w = _tensor(weights).array
    counts = np.bincount(a, w, minlength)
    return Tensor._wrap(counts.astype(w.dtype if w.dtype.kind == "f" else np.float64))


def histc(input, bins: int = 100, min=0, max=0):  # noqa: A002
    a = _tensor(input).array
    low, high = (a.min(), a.max()) if min == max == 0 else (min, max)
    counts, _ = np.histogram(a, bins=bins, range=(float(low), float(high)))
    return Tensor._wrap(counts.astype(a.dtype))


# ---------------------------------------------------------------------------- softmax
def softmax(input, dim: int, dtype=None):
    t = _softmax_input(input, dim, dtype, "softmax")
    return ops.Softmax.apply(t, axis=dim)


def log_softmax(input, dim: int, dtype=None):
    t = _softmax_input(input, dim, dtype, "log_softmax")
    return ops.LogSoftmax.apply(t, axis=dim)


def _softmax_input(input, dim, dtype, name: str) -> Tensor:
    t = _with_dtype(_tensor(input), dtype)
    _axes(dim, t.ndim)
    if t.array.dtype.kind != "f":
        raise NotImplementedError(f'"{name}_lastdim_kernel_impl" not implemented for '
                                  f"'{t.dtype.name.capitalize()}'")
    return t
