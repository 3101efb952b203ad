"""Indexing: ``x[i]`` and ``x[i] = v``, gather/scatter along a dim, index_select, masked_fill,
nonzero: PyTorch's semantics, with gradients to the elements that were read.

>>> x[:, 0]                                    # a view
>>> x[mask] = 0                                # in place (see deepnum.functions.inplace)
>>> logp.gather(1, labels.unsqueeze(1))        # each row's entry at its label
"""

from __future__ import annotations

import builtins

import numpy as np

from deepnum.autograd.grad_mode import _grad_mode
from deepnum.functions import inplace
from deepnum.functions.pointwise import _tensor, promote
from deepnum.ops import index as index_ops
from deepnum.ops import movement as mv
from deepnum.tensor import Tensor


def as_index(index):
    """A Python index with every tensor inside it replaced by its array (bool tensors are
    masks, integer tensors positions), lists made arrays, as NumPy reads them."""
    if isinstance(index, Tensor):
        return _index_array(index.array)
    if isinstance(index, tuple):
        return tuple(as_index(i) for i in index)
    if isinstance(index, list):
        return _index_array(np.asarray([i.item() if isinstance(i, Tensor) else i
                                        for i in index]))
    return index


def _index_array(a: np.ndarray):
    if a.dtype.kind == "f":
        raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
    return a


def getitem(t: Tensor, index):
    index = as_index(index)
    try:
        return mv.GetItem.apply(t, index=index)
    except IndexError as error:
        raise IndexError(f"{error} (indexing a tensor of shape {tuple(t.shape)})") from None


def setitem(t: Tensor, index, value) -> None:
    """``t[index] = value`` in t's memory, bumping its version; recorded when gradients flow."""
    index = as_index(index)
    inplace._check_leaf(t)
    if _grad_mode.enabled and (t.requires_grad or (isinstance(value, Tensor)
                                                   and value.requires_grad)):
        v = _tensor(value) if isinstance(value, Tensor) else Tensor._wrap(
            np.asarray(value, dtype=t.array.dtype))
        v = v if v.array.dtype == t.array.dtype else v.astype(t.dtype)
        inplace.rebase(t, mv.IndexPut.apply(inplace._snapshot(t), v, index=index))
        return
    array = value.array if isinstance(value, Tensor) else value
    try:
        t.array[index] = array
    except ValueError as error:
        raise RuntimeError(f"setting {np.shape(array)} values into a tensor of shape "
                           f"{tuple(t.shape)}: {error}") from None
    inplace.bump(t)


def _dim(dim: int, ndim: int) -> int:
    n = builtins.max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                         f"but got {dim})")
    return dim % n


def _index(index) -> np.ndarray:
    array = index.array if isinstance(index, Tensor) else np.asarray(index)
    if array.dtype.kind not in "iu":
        raise RuntimeError(f"expected an integer (int64) index tensor, got {array.dtype}")
    return array


def gather(input, dim: int, index, *, sparse_grad: bool = False):
    """``out[i][j] = input[i][index[i][j]]`` along ``dim`` (for dim = 1)."""
    t = _tensor(input)
    return index_ops.Gather.apply(t, index=_index(index), dim=_dim(dim, t.ndim))


def take_along_dim(input, indices, dim=None):
    t = _tensor(input)
    if dim is None:
        return gather(t.reshape(-1), 0, _index(indices).reshape(-1))
    return gather(t, dim, indices)


def scatter(input, dim: int, index, src=None, *, value=None, reduce=None):
    """A copy of input with ``src`` (or the number ``value``) written at ``index`` along
    ``dim``; ``reduce='add'``/``'multiply'`` combines instead of writing."""
    t = _tensor(input)
    if src is None and value is None:
        raise TypeError("scatter(): give src (a tensor) or value (a number)")
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"reduce argument must be either add or multiply, got {reduce}")
    if value is not None or not isinstance(src, Tensor) and np.ndim(src) == 0:
        number = value if value is not None else src
        source = Tensor._wrap(np.full(np.shape(_index(index)), number, dtype=t.array.dtype))
    else:
        source = _tensor(src)
        t, source = promote(t, source) if source.array.dtype != t.array.dtype else (t, source)
    return index_ops.Scatter.apply(t, source, index=_index(index), dim=_dim(dim, t.ndim),
                                   reduce=reduce)


def scatter_add(input, dim: int, index, src):
    return scatter(input, dim, index, src, reduce="add")


def scatter_reduce(input, dim: int, index, src, reduce: str, include_self: bool = True):
    if reduce == "sum":
        return scatter_add(input, dim, index, src)
    raise NotImplementedError(f"scatter_reduce with reduce={reduce!r} is not in deepnum yet "
                              f"(sum is)")


def index_select(input, dim: int, index):
    t = _tensor(input)
    array = _index(index)
    if array.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    d = _dim(dim, t.ndim)
    return mv.GetItem.apply(t, index=(slice(None),) * d + (array.reshape(-1),))


def index_fill(input, dim: int, index, value):
    t = _tensor(input)
    d = _dim(dim, t.ndim)
    mask = np.zeros(t.shape[d], dtype=bool)
    mask[_index(index)] = True
    return masked_fill(t, Tensor._wrap(mask.reshape((-1,) + (1,) * (t.ndim - d - 1))), value)


def index_add(input, dim: int, index, source, *, alpha=1):
    """input with ``alpha * source[k]`` added at position ``index[k]`` along ``dim``."""
    t, src = _tensor(input), _tensor(source)
    d = _dim(dim, t.ndim)
    along = _index(index).reshape((1,) * d + (-1,) + (1,) * (src.ndim - d - 1))
    src = src * alpha if alpha != 1 else src
    return index_ops.Scatter.apply(t, src, index=np.broadcast_to(along, src.shape).copy(),
                                   dim=d, reduce="add")


def masked_fill(input, mask, value):
    """input with ``value`` where ``mask`` (broadcast) is True; the gradient passes elsewhere."""
    from deepnum.functions.pointwise import where

    t = _tensor(input)
    m = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        raise RuntimeError(f"masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{m.dtype}")
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but "
                               f"got tensor with {value.ndim} dimension(s).")
        fill = value.astype(t.dtype)
    else:
        fill = Tensor._wrap(np.asarray(value, dtype=t.array.dtype))
    return where(np.broadcast_to(m, np.broadcast_shapes(m.shape, t.shape)), fill, t)


def masked_select(input, mask):
    t = _tensor(input)
    m = mask.array if isinstance(mask, Tensor) else np.asarray(mask)
    shape = np.broadcast_shapes(m.shape, t.shape)
    return mv.GetItem.apply(t.expand(shape) if t.shape != shape else t,
                            index=np.broadcast_to(m, shape))


def nonzero(input, *, as_tuple: bool = False):
    a = _tensor(input).array
    found = np.nonzero(a) if a.ndim else np.nonzero(a.reshape(1))
    if as_tuple:
        return tuple(Tensor._wrap(i) for i in found)
    return Tensor._wrap(np.stack(found, axis=1) if found else np.zeros((0, 0), np.int64))


def argwhere(input):
    return nonzero(input)
