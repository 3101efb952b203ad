"""Tensor: an ndarray, its gradient, and the op that made it.

A Tensor wraps a NumPy array (``.array``) without copying it. Arithmetic on tensors goes through the
differentiable ops in :mod:`deepnum.ops`, which record the graph that :meth:`Tensor.backward` walks.
Floating data is float32 unless it is given as float64; integer data (class labels) stays integer.

>>> x = dn.tensor([[1.0, -2.0]], requires_grad=True)
>>> y = (x ** 2).sum(); y.backward(); x.grad     # tensor([[ 2., -4.]])
"""

from __future__ import annotations

import numbers

import numpy as np

DEFAULT_DTYPE = np.float32
_FLOAT_KEPT = (np.float32, np.float64)


def _as_array(data, dtype=None) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.array
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    array = np.asarray(data)
    if array.dtype.kind == "f" and array.dtype.type not in _FLOAT_KEPT:
        return array.astype(DEFAULT_DTYPE)
    if array.dtype.kind == "f" and not isinstance(data, np.ndarray):
        return array.astype(DEFAULT_DTYPE)  # Python floats and lists of them: float32, as torch
    if array.dtype.kind in "iu" and not isinstance(data, np.ndarray):
        return array.astype(np.int64)
    return array


def _dim(dim, axis):
    return axis if dim is None else dim


def _keep(keepdim, keepdims):
    return bool(keepdim or keepdims)


class Tensor:
    """A multi-dimensional array that can record operations for automatic differentiation."""

    __slots__ = ("array", "requires_grad", "grad", "_ctx", "_retain_grad", "_graph_freed",
                 "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor must defer to Tensor's reflected operator

    def __init__(self, data, dtype=None, requires_grad: bool = False):
        self.array = _as_array(data, dtype)
        if requires_grad and self.array.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, "
                            f"got dtype {self.array.dtype}")
        self.requires_grad = bool(requires_grad)
        self.grad = None
        self._ctx = None
        self._retain_grad = False
        self._graph_freed = False

    @classmethod
    def _wrap(cls, array: np.ndarray) -> Tensor:
        """Wrap an op's output array: the fast constructor used by every op."""
        t = cls.__new__(cls)
        t.array = array if isinstance(array, np.ndarray) else np.asarray(array)
        t.requires_grad = False
        t.grad = None
        t._ctx = None
        t._retain_grad = False
        t._graph_freed = False
        return t

    # ----------------------------------------------------------------- properties
    @property
    def data(self) -> Tensor:
        """The same memory as a tensor outside the graph (PyTorch's ``.data``: ``p.data.add_(x)``
        changes ``p`` without autograd seeing it). The ndarray itself is ``.array``."""
        return Tensor._wrap(self.array)

    @data.setter
    def data(self, value) -> None:
        self.array = _as_array(value)

    @property
    def shape(self) -> tuple:
        return self.array.shape

    @property
    def dtype(self):
        return self.array.dtype

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None and not self._graph_freed

    @property
    def T(self) -> Tensor:
        return self.permute(*reversed(range(self.ndim)))

    def size(self, dim: int | None = None):
        return self.array.shape if dim is None else self.array.shape[dim]

    def numel(self) -> int:
        return self.array.size

    def dim(self) -> int:
        return self.array.ndim

    def __len__(self) -> int:
        return len(self.array)

    # ----------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph: bool = False) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires one."""
        autograd.backward(self, gradient, retain_graph)

    def _accumulate_grad(self, g: np.ndarray) -> None:
        if g.dtype != self.array.dtype:
            g = g.astype(self.array.dtype)
        if self.grad is None:
            self.grad = Tensor._wrap(g)
        else:
            self.grad = Tensor._wrap(self.grad.array + g)

    def retain_grad(self) -> Tensor:
        self._retain_grad = True
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.array.dtype.kind != "f":
            raise TypeError(f"only floating-point tensors can require gradients, "
                            f"got dtype {self.array.dtype}")
        self.requires_grad = requires_grad
        return self

    def detach(self) -> Tensor:
        """The same data, cut from the graph."""
        return Tensor._wrap(self.array)

    # ----------------------------------------------------------------- conversion
    def numpy(self) -> np.ndarray:
        return self.array

    def item(self):
        if self.array.size != 1:
            raise ValueError(f"item(): only a one-element tensor can be converted to a Python "
                             f"scalar, this one has shape {self.shape}")
        return self.array.item()

    def tolist(self):
        return self.array.tolist()

    def astype(self, dtype) -> Tensor:
        return movement.Cast.apply(self, dtype=np.dtype(dtype))

    to = astype

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def long(self) -> Tensor:
        return Tensor._wrap(self.array.astype(np.int64))

    def __repr__(self) -> str:
        body = np.array2string(self.array, separator=", ", prefix="tensor(")
        extra = "" if self.array.dtype in (np.float32, np.int64) else f", dtype={self.array.dtype}"
        if self._ctx is not None:
            extra += f", grad_fn=<{type(self._ctx).__name__}Backward>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __bool__(self) -> bool:
        return bool(self.item())

    def __array__(self, dtype=None, copy=None):
        return self.array if dtype is None else self.array.astype(dtype)

    # ----------------------------------------------------------------- arithmetic
    def _operand(self, other) -> Tensor:
        if isinstance(other, Tensor):
            return other
        if isinstance(other, numbers.Number) and self.array.dtype.kind == "f":
            return Tensor._wrap(np.asarray(other, dtype=self.array.dtype))
        return Tensor._wrap(_as_array(other))

    def __add__(self, other):
        return elementwise.Add.apply(self, self._operand(other))

    def __radd__(self, other):
        return elementwise.Add.apply(self._operand(other), self)

    def __sub__(self, other):
        return elementwise.Sub.apply(self, self._operand(other))

    def __rsub__(self, other):
        return elementwise.Sub.apply(self._operand(other), self)

    def __mul__(self, other):
        return elementwise.Mul.apply(self, self._operand(other))

    def __rmul__(self, other):
        return elementwise.Mul.apply(self._operand(other), self)

    def __truediv__(self, other):
        return elementwise.Div.apply(self, self._operand(other))

    def __rtruediv__(self, other):
        return elementwise.Div.apply(self._operand(other), self)

    def __pow__(self, exponent):
        if isinstance(exponent, numbers.Number):
            return elementwise.PowScalar.apply(self, exponent=exponent)
        return elementwise.Pow.apply(self, self._operand(exponent))

    def __rpow__(self, base):
        return elementwise.Pow.apply(self._operand(base), self)

    def __matmul__(self, other):
        return linalg.MatMul.apply(self, self._operand(other))

    def __rmatmul__(self, other):
        return linalg.MatMul.apply(self._operand(other), self)

    def __neg__(self):
        return elementwise.Neg.apply(self)

    def __pos__(self):
        return self

    # comparisons give boolean tensors and no gradient, as in PyTorch
    def _compare(self, other, op):
        other = other.array if isinstance(other, Tensor) else other
        return Tensor._wrap(op(self.array, other))

    def __lt__(self, other):
        return self._compare(other, np.less)

    def __le__(self, other):
        return self._compare(other, np.less_equal)

    def __gt__(self, other):
        return self._compare(other, np.greater)

    def __ge__(self, other):
        return self._compare(other, np.greater_equal)

    def __eq__(self, other):
        return self._compare(other, np.equal)

    def __ne__(self, other):
        return self._compare(other, np.not_equal)

    __hash__ = object.__hash__

    # ----------------------------------------------------------------- elementwise functions
    def exp(self):
        return elementwise.Exp.apply(self)

    def log(self):
        return elementwise.Log.apply(self)

    def sqrt(self):
        return elementwise.Sqrt.apply(self)

    def abs(self):
        return elementwise.Abs.apply(self)

    def clip(self, min=None, max=None):
        return elementwise.Clip.apply(self, low=min, high=max)

    clamp = clip

    def relu(self):
        return elementwise.ReLU.apply(self)

    def sigmoid(self):
        return elementwise.Sigmoid.apply(self)

    def tanh(self):
        return elementwise.Tanh.apply(self)

    def softmax(self, dim: int = -1):
        return reduce.Softmax.apply(self, axis=dim)

    def log_softmax(self, dim: int = -1):
        return reduce.LogSoftmax.apply(self, axis=dim)

    # ----------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        return reduce.Sum.apply(self, axis=_dim(dim, axis), keepdims=_keep(keepdim, keepdims))

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        return reduce.Mean.apply(self, axis=_dim(dim, axis), keepdims=_keep(keepdim, keepdims))

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        return reduce.Max.apply(self, axis=_dim(dim, axis), keepdims=_keep(keepdim, keepdims))

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        return -reduce.Max.apply(-self, axis=_dim(dim, axis), keepdims=_keep(keepdim, keepdims))

    def var(self, dim=None, keepdim=False, *, axis=None, keepdims=False, correction: int = 1):
        """Variance with Bessel's correction by default (``correction=1``), as ``torch.var``."""
        axis = _dim(dim, axis)
        centred = self - self.mean(axis, keepdim=True)
        n = self.array.size if axis is None else int(np.prod(
            [self.shape[a] for a in ((axis,) if np.ndim(axis) == 0 else axis)]))
        squares = (centred * centred).sum(axis, keepdim=_keep(keepdim, keepdims))
        return squares / max(n - correction, 0)

    def std(self, dim=None, keepdim=False, *, axis=None, keepdims=False, correction: int = 1):
        return self.var(dim, keepdim, axis=axis, keepdims=keepdims, correction=correction).sqrt()

    def argmax(self, dim=None, keepdim=False, *, axis=None):
        return Tensor._wrap(np.argmax(self.array, axis=_dim(dim, axis), keepdims=keepdim))

    def argmin(self, dim=None, keepdim=False, *, axis=None):
        return Tensor._wrap(np.argmin(self.array, axis=_dim(dim, axis), keepdims=keepdim))

    # ----------------------------------------------------------------- shape
    def reshape(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return movement.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        if self.ndim == 0:
            return self.reshape(1)
        start, end = start_dim % self.ndim, end_dim % self.ndim
        shape = self.shape[:start] + (-1,) + self.shape[end + 1:]
        return self.reshape(shape)

    def permute(self, *dims):
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        return movement.Permute.apply(self, dims=dims)

    def transpose(self, dim0: int = -2, dim1: int = -1):
        dims = list(range(self.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return self.permute(dims)

    def squeeze(self, dim=None):
        if dim is None:
            shape = tuple(s for s in self.shape if s != 1)
        else:
            dims = {d % self.ndim for d in ((dim,) if isinstance(dim, int) else dim)}
            shape = tuple(s for i, s in enumerate(self.shape) if not (i in dims and s == 1))
        return self.reshape(shape)

    def unsqueeze(self, dim: int):
        dim = dim % (self.ndim + 1)
        return self.reshape(self.shape[:dim] + (1,) + self.shape[dim:])

    def expand(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        shape = tuple(s if s != -1 else self.shape[i - len(shape) + self.ndim]
                      for i, s in enumerate(shape))
        return movement.Expand.apply(self, shape=shape)

    def __getitem__(self, index):
        if isinstance(index, Tensor):
            index = index.array
        elif isinstance(index, tuple):
            index = tuple(i.array if isinstance(i, Tensor) else i for i in index)
        return movement.GetItem.apply(self, index=index)

    def __setitem__(self, index, value):
        if self.requires_grad and autograd.is_grad_enabled():
            raise RuntimeError("in-place assignment to a tensor that requires grad; "
                               "wrap it in dn.no_grad() or assign to .data")
        self.array[index] = value.array if isinstance(value, Tensor) else value

    def matmul(self, other):
        return self @ other


# The ops import Tensor from this module, so they are bound here, after the class exists.
from deepnum import autograd  # noqa: E402
from deepnum.ops import elementwise, linalg, movement, reduce  # noqa: E402
