"""Ways to make a tensor: from data, filled, ranged or random (from deepnum's seeded generator,
or a ``generator=``), with PyTorch's signatures (``dtype=``, ``device=``, ``requires_grad=``).

>>> dn.zeros(2, 3), dn.full((2,), 7), dn.arange(5), dn.randn(4, 4, dtype=dn.float64)
"""

from __future__ import annotations

import math
import threading

import numpy as np

from deepnum import device as devices
from deepnum import dtypes
from deepnum.errors import DeepnumError
from deepnum.random import rng_of
from deepnum.tensor import Tensor, _as_array


def _shape(shape, size=None) -> tuple:
    """(2, 3), ((2, 3),), ([2, 3],) and size=(2, 3) all mean the shape (2, 3)."""
    if size is not None:
        shape = (size,)
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


def _charge(shape):
    """``shape``, after charging the budget (if one is set) for its number of elements."""
    if _budget.left is not None:
        shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
        if any(not isinstance(s, (int, np.integer)) or s < 0 for s in shape):
            raise ValueError(f"invalid shape {shape}")
        size = math.prod(int(s) for s in shape)
        if size > _budget.left:
            raise BudgetExceeded(f"allocating {size:,} numbers for shape {shape} goes beyond "
                                 f"the budget ({_budget.left:,} left)")
        _budget.left -= size
    return shape


def _allocate(make, shape, dtype):
    """``make(shape, dtype=dtype)`` within the budget."""
    try:
        return make(_charge(shape), dtype=dtype)
    except ValueError as error:  # NumPy's 'negative dimensions are not allowed'
        raise RuntimeError(f"Trying to create tensor with shape {tuple(shape)}: Dimension size "
                           f"must be non-negative ({error})") from None


def _dtype(dtype, default=None) -> np.dtype:
    """A NumPy dtype from a deepnum/NumPy dtype, or the default floating type for None."""
    if dtype is None:
        return dtypes.default_float() if default is None else default
    return dtypes.as_dtype(dtype).numpy


def _make(array: np.ndarray, requires_grad: bool, device) -> Tensor:
    devices.check(device)
    t = Tensor._wrap(array)
    if requires_grad:
        t.requires_grad_(True)
    return t


def tensor(data, dtype=None, device=None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor (a copy) from an array, list or number: floats take the default floating
    type, ints int64, and arrays keep theirs (as ``torch.tensor``)."""
    if isinstance(data, Tensor):
        data = data.array
    array = np.array(_as_array(data, None if dtype is None else _dtype(dtype)), copy=True)
    return _make(array, requires_grad, device)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like :func:`tensor`, sharing memory where it can (a tensor or an array of that dtype)."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == dtype):
        return data
    devices.check(device)
    return Tensor._wrap(_as_array(data, None if dtype is None else _dtype(dtype)))


asarray = as_tensor


def from_numpy(array: np.ndarray) -> Tensor:
    """Share the array's memory, keep its dtype (as ``torch.from_numpy``)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(array).__name__})")
    return Tensor._wrap(array)


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:
    return input.is_complex()


def numel(input: Tensor) -> int:
    return input.numel()


def empty(*shape, size=None, dtype=None, device=None, requires_grad: bool = False, out=None,
          layout=None, pin_memory=False, memory_format=None) -> Tensor:
    """Memory of that shape (zeros here, for reproducibility; layers fill it in
    ``reset_parameters``)."""
    return _make(_allocate(np.zeros, _shape(shape, size), _dtype(dtype)), requires_grad, device)


def zeros(*shape, size=None, dtype=None, device=None, requires_grad: bool = False, out=None,
          layout=None) -> Tensor:
    return _make(_allocate(np.zeros, _shape(shape, size), _dtype(dtype)), requires_grad, device)


def ones(*shape, size=None, dtype=None, device=None, requires_grad: bool = False, out=None,
         layout=None) -> Tensor:
    return _make(_allocate(np.ones, _shape(shape, size), _dtype(dtype)), requires_grad, device)


def full(size, fill_value, dtype=None, device=None, requires_grad: bool = False,
         out=None, layout=None) -> Tensor:
    if dtype is None:  # the value decides, as in PyTorch: full((2,), 7) is int64
        dtype = dtypes.result_type(fill_value)
    array = _allocate(np.empty, tuple(size) if isinstance(size, (tuple, list)) else (size,),
                      _dtype(dtype))
    array.fill(fill_value)
    return _make(array, requires_grad, device)


def _like(t: Tensor, dtype):
    return t.array.dtype if dtype is None else _dtype(dtype)


def empty_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    return zeros(input.shape, dtype=_like(input, dtype), device=device,
                 requires_grad=requires_grad)


def zeros_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False,
               memory_format=None) -> Tensor:
    return zeros(input.shape, dtype=_like(input, dtype), device=device,
                 requires_grad=requires_grad)


def ones_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False,
              memory_format=None) -> Tensor:
    return ones(input.shape, dtype=_like(input, dtype), device=device,
                requires_grad=requires_grad)


def full_like(input: Tensor, fill_value, dtype=None, device=None,
              requires_grad: bool = False, memory_format=None) -> Tensor:
    return full(input.shape, fill_value, dtype=_like(input, dtype), device=device,
                requires_grad=requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None,
        requires_grad: bool = False) -> Tensor:
    return _make(np.eye(n, m, dtype=_dtype(dtype)), requires_grad, device)


def arange(start, end=None, step=1, dtype=None, device=None,
           requires_grad: bool = False) -> Tensor:
    """[start, end) by step: int64 when all three are integers, else the default float."""
    if end is None:
        start, end = 0, start
    numbers_ = [x.item() if isinstance(x, Tensor) else x for x in (start, end, step)]
    if dtype is None:
        dtype = np.int64 if all(isinstance(x, (int, np.integer)) for x in numbers_) else None
    return _make(np.arange(*numbers_, dtype=_dtype(dtype)), requires_grad, device)


def linspace(start, end, steps: int, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    return _make(np.linspace(start, end, steps, dtype=np.float64).astype(_dtype(dtype)),
                 requires_grad, device)


def logspace(start, end, steps: int, base: float = 10.0, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    return _make(np.logspace(start, end, steps, base=base).astype(_dtype(dtype)),
                 requires_grad, device)


def _random_dtype(dtype) -> np.dtype:
    dt = _dtype(dtype)
    if dt.kind != "f":  # NotImplementedError, a RuntimeError, as torch's "normal_kernel_cpu"
        raise NotImplementedError(f"expected a floating point dtype for a random tensor, got "
                                  f"{dt}")
    return dt


def _draw_dtype(dt: np.dtype):
    """NumPy draws float32 or float64 directly; float16 is drawn in float64 and rounded."""
    return dt if dt in (np.float32, np.float64) else np.float64


def rand(*shape, size=None, generator=None, dtype=None, device=None,
         requires_grad: bool = False) -> Tensor:
    """Uniform on [0, 1)."""
    dt = _random_dtype(dtype)
    array = rng_of(generator).random(_charge(_shape(shape, size)), dtype=_draw_dtype(dt))
    return _make(array.astype(dt, copy=False), requires_grad, device)


def randn(*shape, size=None, generator=None, dtype=None, device=None,
          requires_grad: bool = False) -> Tensor:
    """Standard normal."""
    dt = _random_dtype(dtype)
    array = rng_of(generator).standard_normal(_charge(_shape(shape, size)),
                                              dtype=_draw_dtype(dt))
    return _make(array.astype(dt, copy=False), requires_grad, device)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None,
            requires_grad: bool = False) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size)`` too), int64 by default."""
    if size is None:
        low, high, size = 0, low, high
    elif high is None:
        low, high = 0, low
    array = rng_of(generator).integers(low, high, size=_charge(tuple(size)))
    return _make(array.astype(_dtype(dtype, np.dtype(np.int64))), requires_grad, device)


def randperm(n: int, *, generator=None, dtype=None, device=None,
             requires_grad: bool = False) -> Tensor:
    return _make(rng_of(generator).permutation(n).astype(_dtype(dtype, np.dtype(np.int64))),
                 requires_grad, device)


def rand_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return rand(input.shape, dtype=_like(input, dtype), device=device,
                requires_grad=requires_grad)


def randn_like(input: Tensor, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    return randn(input.shape, dtype=_like(input, dtype), device=device,
                 requires_grad=requires_grad)


def randint_like(input: Tensor, low, high=None, dtype=None, device=None) -> Tensor:
    return randint(low, high, input.shape, dtype=_like(input, dtype), device=device)


def bernoulli(input: Tensor, p=None, *, generator=None) -> Tensor:
    probabilities = input.array if p is None else np.full(input.shape, p)
    draws = rng_of(generator).random(input.shape) < probabilities
    return Tensor._wrap(draws.astype(input.array.dtype))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator=None) -> Tensor:
    """Indices drawn with the probabilities in each row of ``input`` (weights, not normalised)."""
    rng = rng_of(generator)
    rows = input.array.reshape(-1, input.shape[-1]).astype(np.float64)
    picks = [rng.choice(len(r), size=num_samples, replace=replacement, p=r / r.sum())
             for r in rows]  # one draw per distribution, not per element
    out = np.asarray(picks, dtype=np.int64)
    return Tensor._wrap(out.reshape(input.shape[:-1] + (num_samples,)))


def normal(mean, std, size=None, *, generator=None) -> Tensor:
    rng = rng_of(generator)
    m = mean.array if isinstance(mean, Tensor) else mean
    s = std.array if isinstance(std, Tensor) else std
    shape = size if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    like = mean if isinstance(mean, Tensor) else std if isinstance(std, Tensor) else None
    dtype = like.array.dtype if like is not None else dtypes.default_float()
    return Tensor._wrap(rng.normal(m, s, size=shape).astype(dtype))
