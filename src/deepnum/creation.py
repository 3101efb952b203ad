"""Ways to make a tensor: from data, filled, ranged or random (from deepnum's seeded generator)."""

from __future__ import annotations

import math
import threading

import numpy as np

from deepnum.errors import DeepnumError
from deepnum.random import get_rng
from deepnum.tensor import DEFAULT_DTYPE, Tensor


def _shape(shape) -> tuple:
    return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape


class BudgetExceeded(DeepnumError, MemoryError):
    """More elements were asked for than the current :func:`allocation_budget` allows."""


class _Budget(threading.local):
    left = None  # elements still allowed in this thread; None: no budget


_budget = _Budget()


class allocation_budget:  # noqa: N801 - used like a function: with allocation_budget(n):
    """Allow at most ``elements`` numbers to be allocated by the factories below (``empty``,
    ``zeros``, ``ones``, ``full``) inside the block; one more raises :class:`BudgetExceeded`
    *before* the memory is taken. Layers allocate their weights through these factories, so a
    model file can be rebuilt with no more room than its own tensors (deepnum.serialization).

    >>> with allocation_budget(10_000): nn.Linear(10, 10)       # fine: 110 numbers
    """

    def __init__(self, elements: int):
        self.elements = int(elements)

    def __enter__(self):
        self.previous, _budget.left = _budget.left, self.elements
        return self

    def __exit__(self, *exc):
        _budget.left = self.previous
        return False


def _allocate(make, shape, dtype):
    """Run ``make(shape, dtype)`` after charging the budget (if one is set) for its size."""
    if _budget.left is not None:
        shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
        if any(not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
            raise ValueError(f"invalid shape {shape}")
        size = math.prod(int(s) for s in shape)
        if size > _budget.left:
            raise BudgetExceeded(f"allocating {size:,} numbers for shape {shape} goes beyond "
                                 f"the budget ({_budget.left:,} left)")
        _budget.left -= size
    return make(shape, dtype=dtype)


def tensor(data, dtype=None, requires_grad: bool = False) -> Tensor:
    """A new tensor from an array, list or number (float32 unless float64 data is given)."""
    if isinstance(data, Tensor):
        data = data.array
    return Tensor(np.array(data, dtype=dtype) if dtype is not None else data,
                  requires_grad=requires_grad)


def from_numpy(array: np.ndarray) -> Tensor:
    """Share the array's memory, keep its dtype (as ``torch.from_numpy``)."""
    return Tensor._wrap(array)


def empty(*shape, dtype=DEFAULT_DTYPE, requires_grad: bool = False) -> Tensor:
    """Uninitialised memory of that shape (layers fill it in ``reset_parameters``)."""
    return Tensor(_allocate(np.empty, _shape(shape), dtype), requires_grad=requires_grad)


def zeros(*shape, dtype=DEFAULT_DTYPE, requires_grad: bool = False) -> Tensor:
    return Tensor(_allocate(np.zeros, _shape(shape), dtype), requires_grad=requires_grad)


def ones(*shape, dtype=DEFAULT_DTYPE, requires_grad: bool = False) -> Tensor:
    return Tensor(_allocate(np.ones, _shape(shape), dtype), requires_grad=requires_grad)


def full(shape, value, dtype=DEFAULT_DTYPE, requires_grad: bool = False) -> Tensor:
    array = _allocate(np.empty, shape, dtype)
    array.fill(value)
    return Tensor(array, requires_grad=requires_grad)


def zeros_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return Tensor(np.zeros_like(t.array), requires_grad=requires_grad)


def ones_like(t: Tensor, requires_grad: bool = False) -> Tensor:
    return Tensor(np.ones_like(t.array), requires_grad=requires_grad)


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
