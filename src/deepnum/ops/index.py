"""Gather and scatter along one dimension (``torch.gather``, ``scatter``, ``scatter_add``), the
ops behind ``max(dim)``, ``sort``, ``topk`` and friends: their gradient goes to the positions the
values came from.

    gather:  out[i][j] = a[i][index[i][j]]            (dim = 1)
    scatter: out = a;  out[i][index[i][j]] = src[i][j]
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function


def full_index(index: np.ndarray, dim: int) -> tuple:
    """The NumPy fancy index that picks ``a[..., index, ...]`` along ``dim`` elementwise:
    every other axis gets its own coordinate (broadcast grids)."""
    ndim = index.ndim
    grids = [np.arange(n).reshape([-1 if i == k else 1 for i in range(ndim)])
             for k, n in enumerate(index.shape)]
    grids[dim] = index
    return tuple(grids)


def check_index(a_shape, index: np.ndarray, dim: int, name: str) -> None:
    if index.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")
    if index.ndim != len(a_shape) and not (index.ndim == 1 and len(a_shape) == 0):
        raise RuntimeError(f"{name}(): Index tensor must have the same number of dimensions as "
                           f"input tensor")
    size = a_shape[dim] if a_shape else 1
    if index.size and (index.min() < -size or index.max() >= size):
        raise RuntimeError(f"{name}(): index {int(index.max())} is out of bounds for dimension "
                           f"{dim} with size {size}")


class Gather(Function):
    saves = ()

    def forward(self, a, index, dim):
        check_index(a.shape, index, dim, "gather")
        self.shape, self.where = a.shape, full_index(index, dim)
        return a[self.where]

    def backward(self, g):
        grad = np.zeros(self.shape, dtype=g.dtype)
        np.add.at(grad, self.where, g)
        return grad

    def vjp(self, g):
        from deepnum.ops.movement import IndexAdd

        return IndexAdd.apply(g, shape=self.shape, index=self.where)


class Scatter(Function):
    """``a`` with ``src`` written (``reduce=None``) or added (``reduce='add'``) at ``index``
    along ``dim``. The gradient of a is g with the overwritten places zeroed (all of g for add),
    that of src is g gathered at index."""

    saves = ()

    def forward(self, a, src, index, dim, reduce=None):
        check_index(a.shape, index, dim, "scatter")
        self.where, self.reduce = full_index(index, dim), reduce
        self.src_shape, self.index_shape = src.shape, index.shape
        source = src[tuple(slice(n) for n in index.shape)] if src.ndim else src
        out = a.copy()
        if reduce == "add":
            np.add.at(out, self.where, source)
        elif reduce == "multiply":
            np.multiply.at(out, self.where, source)
        else:
            out[self.where] = source
        return out

    def backward(self, g):
        if self.reduce == "multiply":  # as torch, which has no derivative for it either
            raise RuntimeError("the derivative of scatter with reduce='multiply' is not "
                               "implemented")
        ga = None
        if self.needs_input_grad[0]:
            ga = g
            if self.reduce is None:
                ga = g.copy()
                ga[self.where] = 0
        gs = None
        if len(self.needs_input_grad) > 1 and self.needs_input_grad[1]:
            gs = np.zeros(self.src_shape, dtype=g.dtype)
            gs[tuple(slice(n) for n in self.index_shape)] = g[self.where]
        return ga, gs

    def vjp(self, g):
        from deepnum.ops import constant
        from deepnum.ops.movement import GetItem, IndexPut

        if self.reduce == "multiply":
            self.backward(g.array)  # raises
        ga = g
        if self.reduce is None:
            zeros = constant(np.zeros(self.index_shape, dtype=g.array.dtype))
            ga = IndexPut.apply(g, zeros, index=self.where)
        picked = GetItem.apply(g, index=self.where)
        if tuple(self.index_shape) == tuple(self.src_shape):
            return ga, picked
        room = constant(np.zeros(self.src_shape, dtype=g.array.dtype))
        return ga, IndexPut.apply(room, picked, index=tuple(slice(n) for n in self.index_shape))
