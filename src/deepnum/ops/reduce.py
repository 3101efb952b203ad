"""Reductions over axes, and the stable softmax / log-softmax that normalise over one axis."""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function


def _axes(axis, ndim: int) -> tuple:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise IndexError(f"dimension {a} is out of range for a tensor with {ndim} dimensions")
    return tuple(a % max(ndim, 1) for a in axes)


def _expand_back(g: np.ndarray, shape: tuple, axes: tuple, keepdims: bool) -> np.ndarray:
    """Reinsert reduced axes so ``g`` broadcasts against the input of shape ``shape``."""
    if not keepdims and shape:
        g = np.expand_dims(g, axes)
    return np.broadcast_to(g, shape)


class Sum(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.shape, self.axes, self.keepdims = a.shape, _axes(axis, a.ndim), keepdims
        return np.sum(a, axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        return _expand_back(g, self.shape, self.axes, self.keepdims)


class Mean(Function):
    def forward(self, a, axis=None, keepdims=False):
        self.shape, self.axes, self.keepdims = a.shape, _axes(axis, a.ndim), keepdims
        self.count = int(np.prod([a.shape[i] for i in self.axes])) if a.ndim else 1
        return np.mean(a, axis=self.axes, keepdims=keepdims)

    def backward(self, g):
        return _expand_back(g / self.count, self.shape, self.axes, self.keepdims)


class Max(Function):
    """max over axes; ties share the gradient equally (torch.amax's rule)."""

    def forward(self, a, axis=None, keepdims=False):
        self.a, self.axes, self.keepdims = a, _axes(axis, a.ndim), keepdims
        self.out = np.max(a, axis=self.axes, keepdims=True)
        return self.out if keepdims else np.squeeze(self.out, axis=self.axes)

    def backward(self, g):
        winners = self.a == self.out
        count = winners.sum(axis=self.axes, keepdims=True)
        g = g if self.keepdims else np.expand_dims(g, self.axes)
        return winners * (g / count)


class Softmax(Function):
    """p_i = e^{z_i - max z} / sum_j e^{z_j - max z}; shifting by the max keeps e^z finite."""

    def forward(self, a, axis=-1):
        self.axis = axis
        e = np.exp(a - a.max(axis=axis, keepdims=True))
        e /= e.sum(axis=axis, keepdims=True)
        self.out = e
        return e

    def backward(self, g):
        p = self.out
        return p * (g - (g * p).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """log p_i = z_i - max z - log sum_j e^{z_j - max z} (never takes the log of 0)."""

    def forward(self, a, axis=-1):
        self.axis = axis
        shifted = a - a.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        self.out = out
        return out

    def backward(self, g):
        return g - np.exp(self.out) * g.sum(axis=self.axis, keepdims=True)
