"""Ways to make a tensor: from data, filled, ranged or random (from deepnum's seeded generator)."""

from __future__ import annotations

import numpy as np

from deepnum.random import get_rng
from deepnum.tensor import DEFAULT_DTYPE, Tensor


def _shape(shape) -> tuple:
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor from an array, list or number (float32 unless float64 data is given)."""
    if isinstance(data, Tensor):
        data = data.data
    return Tensor(np.array(data, dtype=dtype) if dtype is not None else data,
                  requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """Share the array's memory, keep its dtype (as ``torch.from_numpy``)."""
    return Tensor._wrap(array)


def zeros(*shape, dtype=DEFAULT_DTYPE, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def ones(*shape, dtype=DEFAULT_DTYPE, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def full(shape, value, dtype=DEFAULT_DTYPE, requires_grad: bool = False) -> Tensor:
    return Tensor(np.full(shape, value, dtype=dtype), requires_grad=requires_grad)


def zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros_like(t.data), requires_grad=requires_grad)


def ones_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones_like(t.data), requires_grad=requires_grad)


def eye(n: int, dtype=DEFAULT_DTYPE) -> Tensor:
    return Tensor(np.eye(n, dtype=dtype))


def arange(*args, dtype=None) -> Tensor:
    return Tensor(np.arange(*args, dtype=dtype))


def rand(*shape, dtype=DEFAULT_DTYPE, requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1)."""
    return Tensor(get_rng().random(_shape(shape), dtype=dtype), requires_grad=requires_grad)


def randn(*shape, dtype=DEFAULT_DTYPE, requires_grad: bool = False) -> Tensor:
    """Standard normal."""
    return Tensor(get_rng().standard_normal(_shape(shape), dtype=dtype),
                  requires_grad=requires_grad)
