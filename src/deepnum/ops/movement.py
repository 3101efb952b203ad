"""Ops that move data without arithmetic: reshape, permute, expand, index, pad, cat, cast."""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.ops import unbroadcast


class Reshape(Function):
    def forward(self, a, shape):
        self.shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ValueError(f"reshape: cannot view a tensor of shape {a.shape} "
                             f"({a.size} elements) as shape {tuple(shape)}") from None

    def backward(self, g):
        return g.reshape(self.shape)


class Permute(Function):
    def forward(self, a, dims):
        if sorted(d % max(a.ndim, 1) for d in dims) != list(range(a.ndim)):
            raise ValueError(f"permute: {tuple(dims)} is not a permutation of the "
                             f"{a.ndim} dimensions of a tensor of shape {a.shape}")
        self.dims = tuple(d % max(a.ndim, 1) for d in dims)  # argsort needs them non-negative
        return a.transpose(self.dims)

    def backward(self, g):
        return g.transpose(np.argsort(self.dims))


class Expand(Function):
    def forward(self, a, shape):
        self.shape = a.shape
        return np.broadcast_to(a, shape)

    def backward(self, g):
        return unbroadcast(g, self.shape)


class GetItem(Function):
    """Basic and advanced indexing; backward scatters with add, so repeated indices accumulate."""

    def forward(self, a, index):
        self.shape, self.dtype, self.index = a.shape, a.dtype, index
        return a[index]

    def backward(self, g):
        grad = np.zeros(self.shape, dtype=g.dtype)
        np.add.at(grad, self.index, g)
        return grad


class Pad(Function):
    """Constant padding; ``pad_width`` is NumPy's ((before, after), ...) per dimension."""

    def forward(self, a, pad_width, value=0.0):
        self.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, a.shape))
        return np.pad(a, pad_width, mode="constant", constant_values=value)

    def backward(self, g):
        return g[self.slices]


class Cat(Function):
    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.bounds = np.cumsum([x.shape[axis] for x in arrays])[:-1]
        try:
            return np.concatenate(arrays, axis=axis)
        except ValueError:
            shapes = ", ".join(str(x.shape) for x in arrays)
            raise ValueError(f"cat: shapes {shapes} do not match outside dimension {axis}"
                             ) from None

    def backward(self, g):
        return tuple(np.split(g, self.bounds, axis=self.axis))


class Cast(Function):
    def forward(self, a, dtype):
        self.dtype = a.dtype
        return a.astype(dtype, copy=False)

    def backward(self, g):
        return g.astype(self.dtype, copy=False)
