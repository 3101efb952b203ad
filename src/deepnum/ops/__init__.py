"""Differentiable primitives, one file per family, each op's backward right under its forward.

Everything else in deepnum (activations, losses, layers) is composed from these, so its gradient
comes for free; the few fused ops exist because speed or numerical stability needs them. Each op
also has ``vjp``, its backward written with tensor operations, which ``create_graph=True`` runs so
that the gradient can be differentiated again.
"""

import numpy as np


def unbroadcast(grad: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``grad`` down to ``shape``: the backward of NumPy broadcasting."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad


def sum_to(grad, shape: tuple):
    """:func:`unbroadcast` on tensors (differentiable), for the ops' ``vjp``."""
    if grad is None or tuple(grad.shape) == tuple(shape):
        return grad
    from deepnum.ops.movement import Reshape
    from deepnum.ops.reduce import Sum

    extra = grad.ndim - len(shape)
    axes = tuple(range(extra)) + tuple(extra + i for i, n in enumerate(shape)
                                       if n == 1 and grad.shape[extra + i] != 1)
    return Reshape.apply(Sum.apply(grad, axis=axes, keepdims=False), shape=tuple(shape))


def constant(array):
    """An array as a tensor outside the graph (a mask, a one-hot matrix) inside a ``vjp``."""
    from deepnum.tensor import Tensor

    return Tensor._wrap(np.asarray(array))
