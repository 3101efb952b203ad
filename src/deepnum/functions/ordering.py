"""Functions of the order of values: searchsorted/bucketize (where values would be inserted in
sorted boundaries), isin, and the running extremes cummax/cummin ((values, indices), the
gradient going to the element each running value came from).

>>> dn.bucketize(dn.tensor([0.5, 2.5]), dn.tensor([1.0, 2.0, 3.0]))   # tensor([0, 2])
"""

from __future__ import annotations

import numbers

import numpy as np

from deepnum import return_types as rt
from deepnum.functions.pointwise import _tensor
from deepnum.ops import index as index_ops
from deepnum.tensor import Tensor


def _values(x) -> np.ndarray:
    return x.array if isinstance(x, Tensor) else np.asarray(x)


def searchsorted(sorted_sequence, input, *, out_int32: bool = False,  # noqa: A002
                 right: bool = False, side=None, sorter=None):
    """The index at which each value of ``input`` would be inserted into the innermost dim of
    ``sorted_sequence`` to keep it sorted: the first such (side='left') or the last
    (right=True or side='right'). A 1-D sequence serves every value; an N-D one pairs its
    leading dims with input's.

    >>> seq, x = dn.tensor([1, 3, 5]), dn.tensor([3, 6])
    >>> dn.searchsorted(seq, x), dn.searchsorted(seq, x, side="right")   # [1, 3], [2, 3]
    """
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but "
                               f"got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, "
                               "got side of left while right was True")
        right = side == "right"
    seq = _values(sorted_sequence)
    scalar = isinstance(input, numbers.Number)
    values = np.asarray(input) if scalar else _values(input)
    if sorter is not None:
        seq = np.take_along_axis(seq, _values(sorter), axis=-1)
    mode = "right" if right else "left"
    if seq.ndim == 1:
        out = np.searchsorted(seq, values, side=mode)
    else:
        if scalar or values.shape[:-1] != seq.shape[:-1]:
            raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension "
                               f"or the first N-1 dimensions of boundaries tensor and input "
                               f"value tensor must match, but we got boundaries tensor "
                               f"{list(seq.shape)} and input value tensor {list(values.shape)}")
        rows_s, rows_v = seq.reshape(-1, seq.shape[-1]), values.reshape(-1, values.shape[-1])
        out = np.stack([np.searchsorted(s, v, side=mode) for s, v in zip(rows_s, rows_v)])
        out = out.reshape(values.shape)
    return Tensor._wrap(np.asarray(out, np.int32 if out_int32 else np.int64))


def bucketize(input, boundaries, *, out_int32: bool = False, right: bool = False):  # noqa: A002
    """The bucket of each value: i with b[i-1] < x <= b[i] (b[i-1] <= x < b[i] when right),
    for 1-D sorted ``boundaries``.

    >>> x, boundaries = dn.tensor([1, 5, 9]), dn.tensor([1, 3, 5, 7, 9])
    >>> dn.bucketize(x, boundaries), dn.bucketize(x, boundaries, right=True)  # [0, 2, 4], [1, 3, 5]
    """
    if _values(boundaries).ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim("
                           f"{_values(boundaries).ndim})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def isin(elements, test_elements, *, assume_unique: bool = False, invert: bool = False):
    """Whether each of ``elements`` is among ``test_elements`` (either may be a number).

    >>> x = dn.tensor([1, 2, 3])
    >>> dn.isin(x, dn.tensor([2, 5])), dn.isin(x, 3, invert=True)   # [F, T, F], [T, T, F]
    """
    a, b = _values(elements), _values(test_elements)
    return Tensor._wrap(np.asarray(np.isin(a, b, assume_unique=assume_unique, invert=invert)))


def _running(input, dim: int, largest: bool):
    t = _tensor(input)
    if t.ndim == 0:
        return t.clone(), Tensor._wrap(np.zeros((), np.int64))
    axis = dim % t.ndim
    a = np.moveaxis(t.array, axis, -1)
    index = np.zeros(a.shape, np.int64)
    if a.shape[-1]:
        best, where = a[..., 0].copy(), np.zeros(a.shape[:-1], np.int64)
        for i in range(a.shape[-1]):
            x = a[..., i]
            # ties move the index to the later element and a NaN wins from then on, as PyTorch
            take = ((x >= best) if largest else (x <= best)) | np.isnan(x) if \
                a.dtype.kind in "fc" else ((x >= best) if largest else (x <= best))
            best, where = np.where(take, x, best), np.where(take, i, where)
            index[..., i] = where
    index = np.moveaxis(index, -1, axis)
    values = index_ops.Gather.apply(t, index=index, dim=axis) if t.array.size else t.clone()
    return values, Tensor._wrap(np.ascontiguousarray(index))


def cummax(input, dim: int):  # noqa: A002
    """(values, indices): the running maximum along ``dim`` and where it was found.

    >>> values, indices = dn.cummax(dn.tensor([1.0, 3.0, 2.0, 3.0]), 0)
    >>> values, indices                          # [1., 3., 3., 3.], [0, 1, 1, 3] (ties: the later)
    """
    return rt.cummax(*_running(input, dim, True))


def cummin(input, dim: int):  # noqa: A002
    """(values, indices): the running minimum along ``dim`` and where it was found.

    >>> dn.cummin(dn.tensor([[2, 1, 3]]), 1).values                  # tensor([[2, 1, 1]])
    """
    return rt.cummin(*_running(input, dim, False))
