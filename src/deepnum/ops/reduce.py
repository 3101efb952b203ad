"""Reductions over axes, running sums and products, and the stable softmax / log-softmax that
normalise over one axis."""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.ops import constant


def _axes(axis, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise IndexError(f"Dimension out of range (expected to be in range of "
                             f"[{-max(ndim, 1)}, {max(ndim, 1) - 1}], but got {a})")
    return tuple(sorted({int(a) % max(ndim, 1) for a in axes})) if ndim else ()


def _expand_back(g: np.ndarray, shape: tuple, axes: tuple, keepdims: bool) -> np.ndarray:
    """Reinsert reduced axes so ``g`` broadcasts against the input of shape ``shape``."""
    if not keepdims and shape:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


def _expand_back_tensor(g, shape: tuple, axes: tuple, keepdims: bool):
    from deepnum.ops.movement import Expand, Reshape

    if not keepdims and shape:
        kept = list(shape)
        for a in axes:
            kept[a] = 1
        g = Reshape.apply(g, shape=tuple(kept))
    return Expand.apply(g, shape=shape)


class Sum(Function):
    saves = ()

    def forward(self, a, axis=None, keepdims=False):
        self.shape, self.axes, self.keepdims = a.shape, _axes(axis, a.ndim), keepdims
        return np.asarray(np.sum(a, axis=self.axes, keepdims=keepdims))

    def backward(self, g):
        return _expand_back(g, self.shape, self.axes, self.keepdims)

    def vjp(self, g):
        return _expand_back_tensor(g, self.shape, self.axes, self.keepdims)


class Mean(Function):
    saves = ()

    def forward(self, a, axis=None, keepdims=False):
        self.shape, self.axes, self.keepdims = a.shape, _axes(axis, a.ndim), keepdims
        self.count = int(np.prod([a.shape[i] for i in self.axes])) if a.ndim else 1
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(np.mean(a, axis=self.axes, keepdims=keepdims))

    def backward(self, g):
        return _expand_back(g / self.count, self.shape, self.axes, self.keepdims)

    def vjp(self, g):
        return _expand_back_tensor(g / self.count, self.shape, self.axes, self.keepdims)


class Max(Function):
    """max over axes (``amax``, and ``max()`` of a whole tensor); ties share the gradient equally
    (torch.amax's rule). ``max(dim)`` gives the gradient to one index instead (see gather)."""

    saves = (0,)
    saves_output = True  # the output is a view of self.out: changing it in place is refused

    def forward(self, a, axis=None, keepdims=False, minimum=False):
        self.a, self.axes, self.keepdims = a, _axes(axis, a.ndim), keepdims
        if a.size == 0:
            raise RuntimeError("max(): Expected reduction dim to be specified for input.numel() "
                               "== 0. Specify the reduction dim with the 'dim' argument.")
        reduce = np.min if minimum else np.max
        self.out = reduce(a, axis=self.axes, keepdims=True)
        return self.out if keepdims else np.squeeze(self.out, axis=self.axes)

    def backward(self, g):
        winners = (self.a == self.out) | (np.isnan(self.a) & np.isnan(self.out))
        count = winners.sum(axis=self.axes, keepdims=True)
        g = g if self.keepdims else np.expand_dims(g, self.axes)
        return winners * (g / count)

    def vjp(self, g):
        winners = (self.a == self.out) | (np.isnan(self.a) & np.isnan(self.out))
        share = winners / winners.sum(axis=self.axes, keepdims=True)
        g = _expand_back_tensor(g, self.a.shape, self.axes, self.keepdims)
        return g * constant(share.astype(self.a.dtype))


class Prod(Function):
    """Product over one axis (or all): d/dx_i = prod_{j != i} x_j, computed without dividing by
    x_i, so zeros are handled (as PyTorch)."""

    saves = (0,)

    def forward(self, a, axis=None, keepdims=False):
        self.a, self.axis, self.keepdims = a, axis, keepdims
        return np.asarray(np.prod(a, axis=axis, keepdims=keepdims))

    def backward(self, g):
        a, axis = self.a, self.axis
        flat = a.reshape(-1) if axis is None else np.moveaxis(a, axis, -1)
        # prod of the others = (cumprod of those before) * (cumprod of those after, reversed)
        ones = np.ones(flat.shape[:-1] + (1,), dtype=a.dtype)
        before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)
        after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
        others = before * after
        if axis is None:
            return (g * others).reshape(a.shape)
        g = g if self.keepdims else np.expand_dims(g, axis)
        return np.moveaxis(others, -1, axis) * g

    def vjp(self, g):
        from deepnum.functions.shape import cat

        (x,) = self.parents
        axis = self.axis
        flat = x.reshape(-1) if axis is None else x.movedim(axis, -1)
        one = constant(np.ones(flat.shape[:-1] + (1,), dtype=self.a.dtype))
        # the same exclusive running products as backward, as differentiable tensor ops
        before = cat([one, flat[..., :-1]], -1).cumprod(-1)
        after = cat([one, flat.flip(-1)[..., :-1]], -1).cumprod(-1).flip(-1)
        others = before * after
        if axis is None:
            return (g * others).reshape(x.shape)
        g = g if self.keepdims else g.unsqueeze(axis)
        return others.movedim(-1, axis) * g


class Cumsum(Function):
    """Running sum along ``axis``; its backward is the running sum of g from the end."""

    saves = ()

    def forward(self, a, axis=0):
        self.axis = axis
        return np.cumsum(a, axis=axis)

    def backward(self, g):
        return np.flip(np.cumsum(np.flip(g, self.axis), axis=self.axis), self.axis)

    def vjp(self, g):
        return g.flip(self.axis).cumsum(self.axis).flip(self.axis)


class Cumprod(Function):
    """Running product along ``axis``: y_i = prod_{j <= i} x_j, dL/dx_k = sum_{i >= k} g_i y_i
    / x_k, evaluated as products of the others where x has zeros (as PyTorch)."""

    saves = (0,)

    def forward(self, a, axis=0):
        self.a, self.axis = a, axis
        return np.cumprod(a, axis=axis)

    def backward(self, g):
        a = np.moveaxis(self.a, self.axis, -1)
        gm = np.moveaxis(g, self.axis, -1)
        n = a.shape[-1]
        out = np.zeros_like(a)
        for k in range(n):  # n is the scanned axis's length, not the number of elements
            # d y_i / d x_k for i >= k: prod_{j <= i, j != k} x_j
            left = np.prod(a[..., :k], axis=-1, keepdims=True)
            right = np.cumprod(a[..., k + 1:], axis=-1)
            terms = np.concatenate([np.ones_like(left), right], axis=-1) * left
            out[..., k] = (gm[..., k:] * terms).sum(axis=-1)
        return np.moveaxis(out, -1, self.axis)

    def vjp(self, g):
        from deepnum.functions.shape import cat, stack

        x, gm = self.parents[0].movedim(self.axis, -1), g.movedim(self.axis, -1)
        one = constant(np.ones(x.shape[:-1] + (1,), dtype=self.a.dtype))
        columns = []
        for k in range(x.shape[-1]):  # backward's loop, on tensors
            left = x[..., :k].prod(-1, keepdim=True) if k else one
            terms = cat([one, x[..., k + 1:].cumprod(-1)], -1) * left
            columns.append((gm[..., k:] * terms).sum(-1))
        return stack(columns, -1).movedim(-1, self.axis)


class Norm2(Function):
    """sqrt(sum x^2) over axes; its gradient x / norm is taken as 0 where the norm is 0 (as
    PyTorch), not the 0/0 that composing sqrt and a sum would give."""

    saves = (0,)
    saves_output = True

    def forward(self, a, axis=None, keepdims=False):
        self.a, self.axes, self.keepdims = a, _axes(axis, a.ndim), keepdims
        self.out = np.sqrt(np.sum(a * a, axis=self.axes, keepdims=True))
        return self.out if keepdims else np.squeeze(self.out, axis=self.axes)

    def backward(self, g):
        g = g if self.keepdims else np.expand_dims(g, self.axes)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.where(self.out == 0, 0, g / self.out)
        return (self.a * scale).astype(self.a.dtype, copy=False)

    def vjp(self, g):
        (a,) = self.parents
        norm = Norm2.apply(a, axis=self.axes, keepdims=True)
        safe = norm + constant((self.out == 0).astype(self.a.dtype))
        g = _expand_back_tensor(g, self.out.shape, (), True) if self.keepdims else \
            _expand_back_tensor(g, self.out.shape, self.axes, False)
        return a * g / safe


class Softmax(Function):
    """p_i = e^{z_i - max z} / sum_j e^{z_j - max z}; shifting by the max keeps e^z finite."""

    saves = ()
    saves_output = True

    def forward(self, a, axis=-1):
        self.axis = axis
        e = np.exp(a - a.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        self.out = e
        return e

    def backward(self, g):
        p = self.out
        return p * (g - (g * p).sum(axis=self.axis, keepdims=True))

    def vjp(self, g):
        p = Softmax.apply(self.parents[0], axis=self.axis)
        return p * (g - (g * p).sum(self.axis, keepdim=True))


class LogSoftmax(Function):
    """log p_i = z_i - max z - log sum_j e^{z_j - max z} (never takes the log of 0)."""

    saves = ()
    saves_output = True

    def forward(self, a, axis=-1):
        self.axis = axis
        shifted = a - a.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        self.out = out
        return out

    def backward(self, g):
        return g - np.exp(self.out) * g.sum(axis=self.axis, keepdims=True)

    def vjp(self, g):
        p = Softmax.apply(self.parents[0], axis=self.axis)
        return g - p * g.sum(self.axis, keepdim=True)
