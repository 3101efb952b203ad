"""Ops that move data without arithmetic: reshape, permute, expand, index, pad, cat, flip, roll,
cast, and the functional form of ``x[index] = v``. Reshape, permute, expand and basic indexing
return views (no copy), which share their base's in-place version."""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.ops import unbroadcast


def full_in_layout_of(like: np.ndarray, shape: tuple, value=0, dtype=None) -> np.ndarray:
    """An array of ``shape`` filled with ``value`` whose axes lie in memory in the order of
    ``like``'s (largest stride outermost; C order for a C-contiguous ``like``), as NumPy's
    elementwise ops keep their inputs' order. A padded or scattered copy of a batch-last
    convolution output stays batch-last, so the next elementwise op or convolution reads it
    without a transposing copy (numbers unchanged: only the layout)."""
    order = sorted(range(like.ndim), key=lambda i: -abs(like.strides[i]))  # stable: C on ties
    out = np.full([shape[i] for i in order], value, dtype=dtype or like.dtype)
    return out.transpose(np.argsort(order))


class Reshape(Function):
    saves = ()
    view = True

    def forward(self, a, shape):
        self.shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {a.size}"
                               ) from None

    def backward(self, g):
        return g.reshape(self.shape)

    def vjp(self, g):
        return Reshape.apply(g, shape=self.shape)


class Permute(Function):
    saves = ()
    view = True

    def forward(self, a, dims):
        if len(dims) != a.ndim:
            raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input "
                               f"does not match the length of the desired ordering of "
                               f"dimensions i.e. input.dim() = {a.ndim} is not equal to "
                               f"len(dims) = {len(dims)}")
        if sorted(d % max(a.ndim, 1) for d in dims) != list(range(a.ndim)):
            raise RuntimeError("permute(): duplicate dims are not allowed.")
        self.dims = tuple(d % max(a.ndim, 1) for d in dims)  # argsort needs them non-negative
        return a.transpose(self.dims)

    def backward(self, g):
        return g.transpose(np.argsort(self.dims))

    def vjp(self, g):
        return Permute.apply(g, dims=tuple(int(d) for d in np.argsort(self.dims)))


class Expand(Function):
    saves = ()
    view = True

    def forward(self, a, shape):
        self.shape = a.shape
        try:
            return np.broadcast_to(a, shape)
        except ValueError:
            raise RuntimeError(f"The expanded size of the tensor ({list(shape)}) must match the "
                               f"existing size {list(a.shape)} at non-singleton dimensions"
                               ) from None

    def backward(self, g):
        return unbroadcast(g, self.shape)

    def vjp(self, g):
        from deepnum.ops import sum_to

        return sum_to(g, self.shape)


def is_basic(index) -> bool:
    """Whether ``a[index]`` is NumPy's basic indexing (a view): ints, slices, None, Ellipsis."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(p is None or p is Ellipsis or isinstance(p, (slice, int, np.integer))
               and not isinstance(p, bool) for p in parts)


class GetItem(Function):
    """Basic and advanced indexing. Backward writes g where the elements came from; with advanced
    indices it adds (np.add.at), so repeated indices accumulate."""

    saves = ()
    view = True  # basic indexing is a view; advanced indexing copies (then nothing is shared)

    def forward(self, a, index):
        self.shape, self.index = a.shape, index
        self.basic = is_basic(index)
        return a[index]

    def backward(self, g):
        if self.basic and g.ndim == len(self.shape):  # a's layout, as its slice g shows it
            grad = full_in_layout_of(g, self.shape)
        else:
            grad = np.zeros(self.shape, dtype=g.dtype)
        if self.basic:
            grad[self.index] = g  # each element was read once: a plain write
        else:
            np.add.at(grad, self.index, g)
        return grad

    def vjp(self, g):
        return IndexAdd.apply(g, shape=self.shape, index=self.index)


class IndexAdd(Function):
    """zeros(shape) with g added at ``index``: GetItem's backward as an op (for double
    backward); its own backward reads g back at ``index``."""

    saves = ()

    def forward(self, g, shape, index):
        self.index = index
        grad = np.zeros(shape, dtype=g.dtype)
        np.add.at(grad, index, g)
        return grad

    def backward(self, h):
        return h[self.index]

    def vjp(self, h):
        return GetItem.apply(h, index=self.index)


class IndexPut(Function):
    """``out = a`` with ``out[index] = v`` (the functional form of ``a[index] = v``): the
    gradient of a is g with the written places zeroed, that of v is g at them (summed back to
    v's shape)."""

    saves = ()

    def forward(self, a, v, index):
        self.index, self.v_shape = index, v.shape
        out = a.copy()
        out[index] = v
        return out

    def backward(self, g):
        ga = None
        if self.needs_input_grad[0]:
            ga = g.copy()
            ga[self.index] = 0
        gv = None
        if self.needs_input_grad[1]:
            picked = g[self.index]
            gv = unbroadcast(picked, self.v_shape) if picked.shape != self.v_shape else picked
        return ga, gv

    def vjp(self, g):
        from deepnum.ops import constant, sum_to

        zeros = constant(np.zeros(self.v_shape, dtype=g.array.dtype))
        return IndexPut.apply(g, zeros, index=self.index), sum_to(
            GetItem.apply(g, index=self.index), self.v_shape)


class Pad(Function):
    """Padding with ``mode`` 'constant' (``value``), 'reflect', 'replicate' or 'circular' (as
    torch.nn.functional.pad); ``pad_width`` is NumPy's ((before, after), ...) per dimension."""

    saves = ()
    _numpy_mode = {"constant": "constant", "reflect": "reflect", "replicate": "edge",
                   "circular": "wrap"}

    def forward(self, a, pad_width, value=0.0, mode="constant"):
        self.shape, self.pad_width, self.mode = a.shape, pad_width, mode
        if mode == "constant":
            self.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, a.shape))
            # np.pad's values, in a's memory order (np.pad itself always returns C order)
            out = full_in_layout_of(a, tuple(n + lo + hi for n, (lo, hi) in
                                             zip(a.shape, pad_width)), value)
            out[self.slices] = a
            return out
        # where each padded element comes from: the same padding applied to the indices
        self.source = np.pad(np.arange(a.size).reshape(a.shape), pad_width,
                             mode=self._numpy_mode[mode])
        return a.reshape(-1)[self.source]

    def backward(self, g):
        if self.mode == "constant":
            return g[self.slices]
        total = np.bincount(self.source.reshape(-1), weights=g.reshape(-1),
                            minlength=int(np.prod(self.shape)))
        return total.astype(g.dtype).reshape(self.shape)

    def vjp(self, g):
        if self.mode == "constant":
            return GetItem.apply(g, index=self.slices)
        flat = IndexAdd.apply(g.reshape(-1), shape=(int(np.prod(self.shape)),),
                              index=self.source.reshape(-1))
        return flat.reshape(self.shape)


class Cat(Function):
    saves = ()

    def forward(self, *arrays, axis=0):
        self.axis = axis
        self.bounds = np.cumsum([x.shape[axis] for x in arrays])[:-1]
        try:
            return np.concatenate(arrays, axis=axis)
        except ValueError:
            shapes = ", ".join(str(tuple(x.shape)) for x in arrays)
            raise RuntimeError(f"Sizes of tensors must match except in dimension {axis}; got "
                               f"{shapes}") from None

    def backward(self, g):
        return tuple(np.split(g, self.bounds, axis=self.axis))

    def vjp(self, g):
        edges = [0, *self.bounds.tolist(), g.shape[self.axis]]
        pieces = []
        for lo, hi in zip(edges[:-1], edges[1:]):
            index = (slice(None),) * (self.axis % g.ndim) + (slice(lo, hi),)
            pieces.append(GetItem.apply(g, index=index))
        return tuple(pieces)


class Flip(Function):
    saves = ()

    def forward(self, a, dims):
        self.dims = dims
        return np.flip(a, dims).copy()

    def backward(self, g):
        return np.flip(g, self.dims)

    def vjp(self, g):
        return Flip.apply(g, dims=self.dims)


class Roll(Function):
    """np.roll; ``shifts`` and ``dims`` are both ints or both tuples, or ``dims`` None."""

    saves = ()

    def forward(self, a, shifts, dims):
        self.dims = dims
        self.back = tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts
        return np.roll(a, shifts, dims)

    def backward(self, g):
        return np.roll(g, self.back, self.dims)

    def vjp(self, g):
        return Roll.apply(g, shifts=self.back, dims=self.dims)


class Cast(Function):
    saves = ()

    def forward(self, a, dtype):
        self.dtype = a.dtype
        return a.astype(dtype, copy=False)

    def backward(self, g):
        return g.astype(self.dtype, copy=False)

    def vjp(self, g):
        return Cast.apply(g, dtype=self.dtype)


class Copy(Function):
    """A C-contiguous copy (clone, contiguous): the gradient passes unchanged."""

    saves = ()

    def forward(self, a):
        return np.array(a, order="C", copy=True)

    def backward(self, g):
        return g

    def vjp(self, g):
        return g
