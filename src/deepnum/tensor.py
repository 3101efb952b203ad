"""Tensor: an ndarray, its gradient, and the op that made it; PyTorch's Tensor API.

A Tensor wraps a NumPy array (``.array``) without copying it. Arithmetic on tensors goes through
the differentiable ops in :mod:`deepnum.ops`, which record the graph that :meth:`Tensor.backward`
walks. Types follow PyTorch: Python floats make the default floating type (float32), integers
int64, and mixed operands are promoted by PyTorch's rules (:mod:`deepnum.dtypes`).

In-place methods (``add_``, ``mul_``, ``zero_``, ``x[i] = v`` ...) change the memory itself, as in
PyTorch, and bump the tensor's *version*: a backward that needs the old values raises instead of
returning a wrong gradient. This file is long because it is the whole Tensor API users type; each
method is a line or two that calls the op or function that does the work.

>>> x = dn.tensor([[1.0, -2.0]], requires_grad=True)
>>> y = (x ** 2).sum(); y.backward(); x.grad     # tensor([[ 2., -4.]])
"""

from __future__ import annotations

import numbers
from collections import OrderedDict

import numpy as np

from deepnum import device as devices
from deepnum import dtypes


def DEFAULT_DTYPE():  # noqa: N802 - kept for layers that read it at construction
    return dtypes.default_float()


def _as_array(data, dtype=None) -> np.ndarray:
    """``torch.tensor``'s conversion: ndarrays keep their dtype, Python floats (and lists with
    one) take the default floating type, Python ints int64, bools bool."""
    if isinstance(data, Tensor):
        data = data.array
    if dtype is not None:
        return np.asarray(data, dtype=_numpy_dtype(dtype))
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, np.generic):  # a NumPy scalar keeps its type too: tensor(np.int32(2))
        return np.asarray(data)
    array = np.asarray(data)
    kind = array.dtype.kind
    if kind == "f":
        return array.astype(dtypes.default_float(), copy=False)
    if kind in "iu":
        return array.astype(np.int64, copy=False)
    if kind == "c":
        return array.astype(np.complex64 if dtypes.default_float() == np.float32
                            else np.complex128, copy=False)
    if kind == "O" or kind in "SUV":
        raise TypeError(f"can't convert {type(data).__name__} of {array.dtype} to a tensor; "
                        f"give numbers (lists of equal lengths, arrays)")
    return array


def _numpy_dtype(dtype) -> np.dtype:
    return dtype.numpy if isinstance(dtype, dtypes.dtype) else dtypes.as_dtype(dtype).numpy


def _dim(dim, axis):
    return axis if dim is None else dim


class Tensor:
    """A multi-dimensional array that can record operations for automatic differentiation.

    ``Tensor(data)`` converts to the default floating type and ``Tensor(2, 3)`` is a 2 x 3 tensor
    of zeros, as ``torch.Tensor``; :func:`deepnum.tensor` keeps integer and float64 data's type.
    """

    # _views (the views of this tensor made with grad mode on, see autograd.views) is set only on
    # tensors that have some: _wrap does not pay for it
    __slots__ = ("array", "requires_grad", "grad", "_ctx", "_index", "_version", "_base",
                 "_hooks", "_retains", "_views", "__weakref__")
    __array_priority__ = 1000  # ndarray (op) Tensor must defer to Tensor's reflected operator

    def __init__(self, *data, dtype=None, requires_grad: bool = False, device=None):
        devices.check(device)
        if len(data) == 1 and not isinstance(data[0], numbers.Integral):
            array = _as_array(data[0], dtype or (None if isinstance(data[0], (np.ndarray, Tensor))
                                                 else dtypes.default_float()))
        elif all(isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in data):
            array = np.zeros(data, dtype=_numpy_dtype(dtype or dtypes.get_default_dtype()))
        else:
            raise TypeError(f"Tensor(): expected data or a shape of integers, got {data!r}")
        _init(self, array)
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, array: np.ndarray) -> Tensor:
        """Wrap an op's output array: the fast constructor used by every op."""
        t = cls.__new__(cls)
        # _init written out: this runs for every op's output, and the call shows at one sample
        t.array = array if isinstance(array, np.ndarray) else np.asarray(array)
        t.requires_grad = False
        t.grad = t._ctx = t._base = t._hooks = None
        t._index = t._version = 0
        t._retains = False
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
    def shape(self) -> Size:
        return Size(self.array.shape)  # torch.Size: x.shape.numel(); the hot paths read .array

    @property
    def dtype(self) -> dtypes.dtype:
        return dtypes.of(self.array)

    @property
    def device(self) -> devices.device:
        return devices.CPU

    is_cuda = False
    is_sparse = False
    is_quantized = False
    is_meta = False

    @property
    def ndim(self) -> int:
        return self.array.ndim

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None or not self.requires_grad

    @property
    def grad_fn(self):
        """The Function that made this tensor (None for leaves), as PyTorch's ``grad_fn``."""
        return self._ctx

    @property
    def T(self) -> Tensor:  # noqa: N802
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self) -> Tensor:  # noqa: N802
        return self.transpose(-2, -1)

    @property
    def itemsize(self) -> int:
        return self.array.itemsize

    @property
    def nbytes(self) -> int:
        return self.array.nbytes

    @property
    def retains_grad(self) -> bool:
        return self._retains

    def size(self, dim: int | None = None):
        return Size(self.array.shape) if dim is None else self.array.shape[dim]

    def numel(self) -> int:
        return self.array.size

    nelement = numel

    def dim(self) -> int:
        return self.array.ndim

    ndimension = dim

    def stride(self, dim: int | None = None):
        """Strides in elements, as torch (NumPy's are in bytes)."""
        strides = tuple(s // self.array.itemsize for s in self.array.strides)
        return strides if dim is None else strides[dim]

    def element_size(self) -> int:
        return self.array.itemsize

    def is_floating_point(self) -> bool:
        return self.array.dtype.kind == "f"

    def is_complex(self) -> bool:
        return self.array.dtype.kind == "c"

    def is_contiguous(self, memory_format=None) -> bool:
        return bool(self.array.flags.c_contiguous)

    def contiguous(self, memory_format=None) -> Tensor:
        return self if self.array.flags.c_contiguous else _f.contiguous(self)

    def __len__(self) -> int:
        if not self.array.ndim:
            raise TypeError("len() of a 0-d tensor")
        return len(self.array)

    def __iter__(self):
        if not self.array.ndim:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    # ----------------------------------------------------------------- autograd
    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False,
                 inputs=None) -> None:
        """Compute the gradient of this tensor with respect to every leaf that requires one."""
        _autograd.backward(self, None if gradient is None else [gradient], retain_graph,
                           create_graph, inputs)

    def retain_grad(self) -> None:
        """Keep this non-leaf tensor's gradient in ``.grad`` after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self._ctx is not None and not self._retains:
            import weakref

            ref = weakref.ref(self)

            def keep(grad):
                t = ref()
                if t is not None:
                    own = Tensor._wrap(np.array(grad.array, copy=True))
                    t.grad = own if t.grad is None else t.grad + own

            self._add_node_hook(keep, last=True)
        self._retains = True

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if requires_grad and self.array.dtype.kind not in "fc":
            raise RuntimeError("Only Tensors of floating point and complex dtype can require "
                               "gradients")
        if not requires_grad and self._ctx is not None and self.requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If "
                               "you want to use a computed variable in a subgraph that doesn't "
                               "require differentiation use var_no_grad = var.detach().")
        self.requires_grad = bool(requires_grad)
        return self

    def detach(self) -> Tensor:
        """The same data, cut from the graph (sharing the version counter, as in PyTorch)."""
        out = Tensor._wrap(self.array)
        out._base = self if self._base is None else self._base
        return out

    def detach_(self) -> Tensor:
        self._ctx, self.requires_grad = None, False
        return self

    def register_hook(self, hook):
        """``hook(grad) -> new grad or None`` runs when this tensor's gradient is computed (for
        a leaf, before it is added to ``.grad``). Returns a handle with ``remove()``."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._ctx is None:
            if self._hooks is None:
                self._hooks = OrderedDict()
            return _hooks.add_hook(self._hooks, hook)
        return self._add_node_hook(hook)

    def register_post_accumulate_grad_hook(self, hook):
        """``hook(tensor)`` runs after backward has added to this leaf's ``.grad`` (what
        data-parallel training uses to start reducing a gradient as soon as it is ready)."""
        if self._ctx is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if self._hooks is None:
            self._hooks = OrderedDict()
        return _hooks.add_hook(self._hooks, _autograd.engine.PostAccumulate(hook))

    def _add_node_hook(self, hook, last: bool = False):
        """A hook on this (non-leaf) output of its Function, run before its backward; retain_grad's
        keeper runs after the user's hooks, as in PyTorch."""
        fn = self._ctx
        if fn.hooks is None:
            fn.hooks = {}
        hooks = fn.hooks.setdefault(self._index, OrderedDict())
        handle = _hooks.add_hook(hooks, hook)
        if not last:
            keeper = [k for k, h in hooks.items() if getattr(h, "__name__", "") == "keep"]
            for k in keeper:
                hooks.move_to_end(k)
        return handle

    # ----------------------------------------------------------------- conversion
    def numpy(self, force: bool = False) -> np.ndarray:
        return self.array

    def item(self):
        if self.array.size != 1:
            raise RuntimeError(f"a Tensor with {self.array.size} elements cannot be converted "
                               f"to Scalar")
        return self.array.item()

    def tolist(self):
        return self.array.tolist()

    def astype(self, dtype) -> Tensor:
        """A copy (differentiable) in another dtype; the same tensor if it already is one."""
        target = _numpy_dtype(dtype)
        if target == self.array.dtype:
            return self
        return _movement.Cast.apply(self, dtype=target)

    def to(self, *args, **kwargs) -> Tensor:
        """``to(dtype)``, ``to(device)``, ``to(device, dtype)``, ``to(other)``; keywords
        ``dtype``, ``device``, ``non_blocking`` and ``copy``. Only the CPU exists."""
        dtype, copy = kwargs.pop("dtype", None), kwargs.pop("copy", False)
        where = kwargs.pop("device", None)
        kwargs.pop("non_blocking", None)
        kwargs.pop("memory_format", None)
        if kwargs:
            raise TypeError(f"to() got unexpected keyword arguments {sorted(kwargs)}")
        for a in args:
            if isinstance(a, Tensor):
                dtype = a.dtype
            elif isinstance(a, (str, devices.device)) and not _is_dtype_name(a):
                where = a
            elif isinstance(a, bool):
                continue  # non_blocking passed positionally
            else:
                dtype = a
        devices.check(where)
        out = self if dtype is None else self.astype(dtype)
        return out.clone() if copy and out is self else out

    def cpu(self, memory_format=None) -> Tensor:
        return self

    def get_device(self) -> int:
        return -1  # torch's answer for a CPU tensor

    def cuda(self, device=None, non_blocking: bool = False) -> Tensor:
        devices.check("cuda" if device is None else device)
        return self

    def type(self, dtype=None, non_blocking: bool = False):
        if dtype is None:
            return _TYPE_NAMES.get(self.array.dtype, f"deepnum.{self.dtype.name}")
        if isinstance(dtype, str) and dtype in _TYPE_BY_NAME:
            dtype = _TYPE_BY_NAME[dtype]
        elif f"deepnum.{getattr(dtype, '__name__', '')}" in _TYPE_BY_NAME:  # type(FloatTensor)
            dtype = _TYPE_BY_NAME[f"deepnum.{dtype.__name__}"]
        return self.astype(getattr(dtype, "dtype", dtype))

    def type_as(self, other: Tensor) -> Tensor:
        return self.astype(other.dtype)

    def float(self) -> Tensor:
        return self.astype(np.float32)

    def double(self) -> Tensor:
        return self.astype(np.float64)

    def half(self) -> Tensor:
        return self.astype(np.float16)

    def long(self) -> Tensor:
        return self.astype(np.int64)

    def int(self) -> Tensor:
        return self.astype(np.int32)

    def short(self) -> Tensor:
        return self.astype(np.int16)

    def byte(self) -> Tensor:
        return self.astype(np.uint8)

    def char(self) -> Tensor:
        return self.astype(np.int8)

    def bool(self) -> Tensor:
        return self.astype(np.bool_)

    def clone(self, memory_format=None) -> Tensor:
        return _f.clone(self)

    def __repr__(self) -> str:
        body = np.array2string(self.array, separator=", ", prefix="tensor(",
                               threshold=1000, edgeitems=3)
        default = dtypes.default_float()
        plain = self.array.dtype in (default, np.int64, np.bool_) and self.array.size
        extra = "" if plain else f", dtype={self.dtype}"
        if self.array.size == 0 and self.array.ndim > 1:
            extra = f", size={tuple(self.shape)}" + extra
        if self._ctx is not None and self.requires_grad:
            extra += f", grad_fn=<{type(self._ctx).__name__}Backward0>"
        elif self.requires_grad:
            extra += ", requires_grad=True"
        return f"tensor({body}{extra})"

    def __format__(self, spec: str) -> str:
        if self.array.ndim == 0:
            return format(self.array.item(), spec)
        return format(repr(self), spec)

    def __float__(self) -> float:
        return float(self._scalar())

    def __int__(self) -> int:
        return int(self._scalar())

    def _scalar(self):
        if self.array.size != 1:  # int(t), float(t): ValueError, where t.item() raises Runtime
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self.array.item()

    def __index__(self) -> int:
        if self.array.dtype.kind not in "iub" or self.array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an "
                            "index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self.array.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with {self.array.size} values is "
                               f"ambiguous")
        return bool(self.item())

    def __complex__(self) -> complex:
        return complex(self._scalar())

    def __array__(self, dtype=None, copy=None):
        return self.array if dtype is None else self.array.astype(dtype)

    def __reduce_ex__(self, protocol):  # copy.deepcopy and pickle (never for model files)
        return (_rebuild, (self.array.copy(), self.requires_grad))

    def __deepcopy__(self, memo):
        if self._ctx is not None and self.requires_grad:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) "
                               "support the deepcopy protocol at the moment")
        out = type(self).__new__(type(self))
        _init(out, self.array.copy())
        out.requires_grad = self.requires_grad
        if self.grad is not None:
            out.grad = Tensor._wrap(self.grad.array.copy())
        memo[id(self)] = out
        return out

    # ----------------------------------------------------------------- arithmetic
    def __add__(self, other):
        return _f.add(self, other)

    def __radd__(self, other):
        return _f.add(other, self)

    def __sub__(self, other):
        return _f.sub(self, other)

    def __rsub__(self, other):
        return _f.sub(other, self)

    def __mul__(self, other):
        return _f.mul(self, other)

    def __rmul__(self, other):
        return _f.mul(other, self)

    def __truediv__(self, other):
        return _f.div(self, other)

    def __rtruediv__(self, other):
        return _f.div(other, self)

    def __floordiv__(self, other):
        return _f.floor_divide(self, other)

    def __rfloordiv__(self, other):
        return _f.floor_divide(other, self)

    def __mod__(self, other):
        return _f.remainder(self, other)

    def __rmod__(self, other):
        return _f.remainder(other, self)

    def __pow__(self, exponent):
        return _f.pow(self, exponent)

    def __rpow__(self, base):
        return _f.pow(base, self)

    def __matmul__(self, other):
        return _f.matmul(self, other)

    def __rmatmul__(self, other):
        return _f.matmul(other, self)

    def __neg__(self):
        return _f.neg(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _f.abs(self)

    def __invert__(self):
        return _f.bitwise_not(self)

    def __and__(self, other):
        return _f.logical_op(np.bitwise_and, self, other)

    __rand__ = __and__

    def __or__(self, other):
        return _f.logical_op(np.bitwise_or, self, other)

    __ror__ = __or__

    def __xor__(self, other):
        return _f.logical_op(np.bitwise_xor, self, other)

    __rxor__ = __xor__

    # in place, as PyTorch: x += y changes x's memory
    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    def __ipow__(self, other):
        return self.pow_(other)

    # comparisons give boolean tensors and no gradient, as in PyTorch
    def __lt__(self, other):
        return _f.compare(np.less, self, other)

    def __le__(self, other):
        return _f.compare(np.less_equal, self, other)

    def __gt__(self, other):
        return _f.compare(np.greater, self, other)

    def __ge__(self, other):
        return _f.compare(np.greater_equal, self, other)

    def __eq__(self, other):
        return _f.compare(np.equal, self, other)

    def __ne__(self, other):
        return _f.compare(np.not_equal, self, other)

    __hash__ = object.__hash__

    def __contains__(self, value) -> bool:
        return bool(np.any(self.array == (value.array if isinstance(value, Tensor) else value)))

    # ----------------------------------------------------------------- indexing
    def __getitem__(self, index):
        return _f.getitem(self, index)

    def __setitem__(self, index, value):
        _f.setitem(self, index, value)

    # ----------------------------------------------------------------- pointwise functions
    def add(self, other, alpha=1):
        return _f.add(self, other, alpha=alpha)

    def sub(self, other, alpha=1):
        return _f.sub(self, other, alpha=alpha)

    subtract = sub

    def mul(self, other):
        return _f.mul(self, other)

    multiply = mul

    def div(self, other, rounding_mode=None):
        return _f.div(self, other, rounding_mode=rounding_mode)

    divide = true_divide = div

    def pow(self, exponent):
        return _f.pow(self, exponent)

    def fmod(self, other):
        return _f.fmod(self, other)

    def remainder(self, other):
        return _f.remainder(self, other)

    def neg(self):
        return _f.neg(self)

    negative = neg

    def abs(self):
        return _f.abs(self)

    absolute = abs

    def exp(self):
        return _f.exp(self)

    def exp2(self):
        return _f.exp2(self)

    def expm1(self):
        return _f.expm1(self)

    def log(self):
        return _f.log(self)

    def log2(self):
        return _f.log2(self)

    def log10(self):
        return _f.log10(self)

    def log1p(self):
        return _f.log1p(self)

    def sqrt(self):
        return _f.sqrt(self)

    def rsqrt(self):
        return _f.rsqrt(self)

    def square(self):
        return _f.square(self)

    def reciprocal(self):
        return _f.reciprocal(self)

    def sin(self):
        return _f.sin(self)

    def cos(self):
        return _f.cos(self)

    def tan(self):
        return _f.tan(self)

    def asin(self):
        return _f.asin(self)

    def acos(self):
        return _f.acos(self)

    def atan(self):
        return _f.atan(self)

    def atan2(self, other):
        return _f.atan2(self, other)

    def sinh(self):
        return _f.sinh(self)

    def cosh(self):
        return _f.cosh(self)

    def tanh(self):
        return _f.tanh(self)

    def sigmoid(self):
        return _f.sigmoid(self)

    def relu(self):
        return _f.relu(self)

    def erf(self):
        return _f.erf(self)

    def sign(self):
        return _f.sign(self)

    def floor(self):
        return _f.floor(self)

    def ceil(self):
        return _f.ceil(self)

    def round(self, decimals: int = 0):
        return _f.round(self, decimals=decimals)

    def trunc(self):
        return _f.trunc(self)

    def frac(self):
        return _f.frac(self)

    def clamp(self, min=None, max=None):  # noqa: A002 - PyTorch's argument names
        return _f.clamp(self, min, max)

    clip = clamp

    def clamp_min(self, min):  # noqa: A002
        return _f.clamp(self, min, None)

    def clamp_max(self, max):  # noqa: A002
        return _f.clamp(self, None, max)

    def maximum(self, other):
        return _f.maximum(self, other)

    def minimum(self, other):
        return _f.minimum(self, other)

    def lerp(self, end, weight):
        return _f.lerp(self, end, weight)

    def addcmul(self, tensor1, tensor2, *, value=1):
        return _f.addcmul(self, tensor1, tensor2, value=value)

    def addcdiv(self, tensor1, tensor2, *, value=1):
        return _f.addcdiv(self, tensor1, tensor2, value=value)

    def hypot(self, other):
        return _f.hypot(self, other)

    def logaddexp(self, other):
        return _f.logaddexp(self, other)

    def xlogy(self, other):
        return _f.xlogy(self, other)

    def positive(self):
        return self

    def fix(self):
        return _f.trunc(self)

    def floor_divide(self, other):
        return _f.floor_divide(self, other)

    def bitwise_not(self):
        return _f.bitwise_not(self)

    def bitwise_and(self, other):
        return self & other

    def bitwise_or(self, other):
        return self | other

    def bitwise_xor(self, other):
        return self ^ other

    def logical_xor(self, other):
        return _f.logical_xor(self, other)

    def where(self, condition, other):
        return _f.where(condition, self, other)

    def softmax(self, dim: int = -1, dtype=None):
        return _f.softmax(self, dim, dtype=dtype)

    def log_softmax(self, dim: int = -1, dtype=None):
        return _f.log_softmax(self, dim, dtype=dtype)

    def isnan(self):
        return _f.isnan(self)

    def isinf(self):
        return _f.isinf(self)

    def isfinite(self):
        return _f.isfinite(self)

    def nan_to_num(self, nan=0.0, posinf=None, neginf=None):
        return _f.nan_to_num(self, nan, posinf, neginf)

    def logical_not(self):
        return _f.logical_not(self)

    def logical_and(self, other):
        return _f.logical_and(self, other)

    def logical_or(self, other):
        return _f.logical_or(self, other)

    def eq(self, other):
        return self == other

    def ne(self, other):
        return self != other

    def lt(self, other):
        return self < other

    def le(self, other):
        return self <= other

    def gt(self, other):
        return self > other

    def ge(self, other):
        return self >= other

    def allclose(self, other, rtol=1e-5, atol=1e-8, equal_nan=False) -> bool:
        return _f.allclose(self, other, rtol, atol, equal_nan)

    def isclose(self, other, rtol=1e-5, atol=1e-8, equal_nan=False):
        return _f.isclose(self, other, rtol, atol, equal_nan)

    def equal(self, other) -> bool:
        return _f.equal(self, other)

    # ----------------------------------------------------------------- reductions
    def sum(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=False):
        return _f.sum(self, _dim(dim, axis), keepdim or keepdims, dtype=dtype)

    def mean(self, dim=None, keepdim=False, dtype=None, *, axis=None, keepdims=False):
        return _f.mean(self, _dim(dim, axis), keepdim or keepdims, dtype=dtype)

    def nansum(self, dim=None, keepdim=False):
        return _f.nansum(self, dim, keepdim)

    def nanmean(self, dim=None, keepdim=False):
        return _f.nanmean(self, dim, keepdim)

    def aminmax(self, *, dim=None, keepdim=False):
        return _f.aminmax(self, dim=dim, keepdim=keepdim)

    def msort(self):
        return _f.msort(self)

    def prod(self, dim=None, keepdim=False, dtype=None):
        return _f.prod(self, dim, keepdim, dtype=dtype)

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        return _f.max(self, _dim(dim, axis), keepdim or keepdims)

    def min(self, dim=None, keepdim=False, *, axis=None, keepdims=False):
        return _f.min(self, _dim(dim, axis), keepdim or keepdims)

    def amax(self, dim=(), keepdim=False):
        return _f.amax(self, dim, keepdim)

    def amin(self, dim=(), keepdim=False):
        return _f.amin(self, dim, keepdim)

    def argmax(self, dim=None, keepdim=False, *, axis=None):
        return _f.argmax(self, _dim(dim, axis), keepdim)

    def argmin(self, dim=None, keepdim=False, *, axis=None):
        return _f.argmin(self, _dim(dim, axis), keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
            keepdims=False):
        return _f.var(self, _dim(dim, axis), unbiased, keepdim or keepdims,
                      correction=correction)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None, axis=None,
            keepdims=False):
        return _f.std(self, _dim(dim, axis), unbiased, keepdim or keepdims,
                      correction=correction)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        return _f.norm(self, p, dim, keepdim, dtype=dtype)

    def dist(self, other, p=2):
        return _f.dist(self, other, p)

    def logsumexp(self, dim, keepdim=False):
        return _f.logsumexp(self, dim, keepdim)

    def cumsum(self, dim, dtype=None):
        return _f.cumsum(self, dim, dtype=dtype)

    def cumprod(self, dim, dtype=None):
        return _f.cumprod(self, dim, dtype=dtype)

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=False, out=None):
        return _f.all(self, _dim(dim, axis), keepdim or keepdims)

    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=False, out=None):
        return _f.any(self, _dim(dim, axis), keepdim or keepdims)

    def count_nonzero(self, dim=None):
        return _f.count_nonzero(self, dim)

    def median(self, dim=None, keepdim=False):
        return _f.median(self, dim, keepdim)

    def nanmedian(self, dim=None, keepdim=False):
        return _f.nanmedian(self, dim, keepdim)

    def mode(self, dim=-1, keepdim=False):
        return _f.mode(self, dim, keepdim)

    def sort(self, dim=-1, descending=False, stable=False):
        return _f.sort(self, dim, descending, stable=stable)

    def argsort(self, dim=-1, descending=False, stable=False):
        return _f.argsort(self, dim, descending, stable=stable)

    def topk(self, k, dim=-1, largest=True, sorted=True):  # noqa: A002
        return _f.topk(self, k, dim, largest, sorted)

    def kthvalue(self, k, dim=-1, keepdim=False):
        return _f.kthvalue(self, k, dim, keepdim)

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
        return _f.unique(self, sorted, return_inverse, return_counts, dim)

    def bincount(self, weights=None, minlength=0):
        return _f.bincount(self, weights, minlength)

    # ----------------------------------------------------------------- shape
    def reshape(self, *shape):
        return _f.reshape(self, _shape_args(shape))

    def view(self, *shape):
        if len(shape) == 1 and not isinstance(shape[0], (tuple, list, numbers.Integral)):
            return self.astype(shape[0])  # view(dtype): the same bytes reinterpreted is rare
        return _f.view(self, _shape_args(shape))

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim: int = 0, end_dim: int = -1):
        return _f.flatten(self, start_dim, end_dim)

    def unflatten(self, dim: int, sizes):
        return _f.unflatten(self, dim, sizes)

    def permute(self, *dims):
        return _f.permute(self, _shape_args(dims))

    def transpose(self, dim0: int, dim1: int):
        return _f.transpose(self, dim0, dim1)

    swapaxes = swapdims = transpose

    def t(self):
        return _f.t(self)

    def movedim(self, source, destination):
        return _f.movedim(self, source, destination)

    moveaxis = movedim

    def ravel(self):
        return _f.ravel(self)

    def fliplr(self):
        return _f.fliplr(self)

    def flipud(self):
        return _f.flipud(self)

    def diff(self, n: int = 1, dim: int = -1, prepend=None, append=None):
        return _f.diff(self, n, dim, prepend, append)

    def squeeze(self, dim=None):
        return _f.squeeze(self, dim)

    def unsqueeze(self, dim: int):
        return _f.unsqueeze(self, dim)

    def expand(self, *shape):
        return _f.expand(self, _shape_args(shape))

    def expand_as(self, other):
        return _f.expand(self, other.shape)

    def broadcast_to(self, shape):
        return _f.expand(self, tuple(shape))

    def repeat(self, *sizes):
        return _f.repeat(self, _shape_args(sizes))

    def repeat_interleave(self, repeats, dim=None):
        return _f.repeat_interleave(self, repeats, dim)

    def tile(self, *dims):
        return _f.tile(self, _shape_args(dims))

    def flip(self, *dims, **kwargs):  # flip(0, 1), flip((0, 1)) and flip(dims=(0, 1))
        return _f.flip(self, _shape_args(dims or (kwargs.pop("dims"),)))

    def roll(self, shifts, dims=None):
        return _f.roll(self, shifts, dims)

    def narrow(self, dim: int, start: int, length: int):
        return _f.narrow(self, dim, start, length)

    def select(self, dim: int, index: int):
        return _f.select(self, dim, index)

    def chunk(self, chunks: int, dim: int = 0):
        return _f.chunk(self, chunks, dim)

    def split(self, split_size_or_sections, dim: int = 0):
        return _f.split(self, split_size_or_sections, dim)

    def tensor_split(self, indices_or_sections, dim: int = 0):
        return _f.tensor_split(self, indices_or_sections, dim)

    def unbind(self, dim: int = 0):
        return _f.unbind(self, dim)

    def unfold(self, dimension: int, size: int, step: int):
        return _f.tensor_unfold(self, dimension, size, step)

    def tril(self, diagonal: int = 0):
        return _f.tril(self, diagonal)

    def triu(self, diagonal: int = 0):
        return _f.triu(self, diagonal)

    def diag(self, diagonal: int = 0):
        return _f.diag(self, diagonal)

    def diagonal(self, offset: int = 0, dim1: int = 0, dim2: int = 1):
        return _f.diagonal(self, offset, dim1, dim2)

    def trace(self):
        return _f.trace(self)

    # ----------------------------------------------------------------- linear algebra
    def det(self):
        return _f.det(self)

    def logdet(self):
        return _f.logdet(self)

    def slogdet(self):
        return _f.slogdet(self)

    def inverse(self):
        return _f.inverse(self)

    def cholesky(self, upper: bool = False):
        return _f.cholesky(self, upper)

    def qr(self, some: bool = True):
        return _f.qr(self, some)

    def svd(self, some: bool = True, compute_uv: bool = True):
        return _f.svd(self, some, compute_uv)

    def pinverse(self, rcond: float = 1e-15):
        return _f.pinverse(self, rcond)

    def matrix_power(self, n: int):
        return _f.matrix_power(self, n)

    def cross(self, other, dim=None):
        return _f.cross(self, other, dim)

    def kron(self, other):
        return _f.kron(self, other)

    def heaviside(self, values):
        return _f.heaviside(self, values)

    def cummax(self, dim: int):
        return _f.cummax(self, dim)

    def cummin(self, dim: int):
        return _f.cummin(self, dim)

    # ----------------------------------------------------------------- indexing functions
    def gather(self, dim: int, index):
        return _f.gather(self, dim, index)

    def scatter(self, dim: int, index, src=None, value=None, reduce=None):
        return _f.scatter(self, dim, index, src, value=value, reduce=reduce)

    def scatter_add(self, dim: int, index, src):
        return _f.scatter_add(self, dim, index, src)

    def index_select(self, dim: int, index):
        return _f.index_select(self, dim, index)

    def masked_fill(self, mask, value):
        return _f.masked_fill(self, mask, value)

    def index_fill(self, dim: int, index, value):
        return _f.index_fill(self, dim, index, value)

    def index_add(self, dim: int, index, source, *, alpha=1):
        return _f.index_add(self, dim, index, source, alpha=alpha)

    def masked_select(self, mask):
        return _f.masked_select(self, mask)

    def nonzero(self, as_tuple: bool = False):
        return _f.nonzero(self, as_tuple=as_tuple)

    def take_along_dim(self, indices, dim=None):
        return _f.take_along_dim(self, indices, dim)

    def argwhere(self):
        return _f.argwhere(self)

    # ----------------------------------------------------------------- products
    def matmul(self, other):
        return _f.matmul(self, other)

    def mm(self, other):
        return _f.mm(self, other)

    def bmm(self, other):
        return _f.bmm(self, other)

    def dot(self, other):
        return _f.dot(self, other)

    def inner(self, other):
        return _f.inner(self, other)

    def mv(self, vec):
        return _f.mv(self, vec)

    def addmv(self, mat, vec, *, beta=1, alpha=1):
        return _f.addmv(self, mat, vec, beta=beta, alpha=alpha)

    def outer(self, other):
        return _f.outer(self, other)

    ger = outer

    def addmm(self, mat1, mat2, beta=1, alpha=1):
        return _f.addmm(self, mat1, mat2, beta=beta, alpha=alpha)

    def baddbmm(self, batch1, batch2, beta=1, alpha=1):
        return _f.baddbmm(self, batch1, batch2, beta=beta, alpha=alpha)

    # ----------------------------------------------------------------- new tensors like this one
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        return _creation.tensor(data, dtype=dtype or self.dtype, device=device,
                                requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        return _creation.zeros(*size, dtype=dtype or self.dtype, device=device,
                               requires_grad=requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        return _creation.ones(*size, dtype=dtype or self.dtype, device=device,
                              requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        return _creation.full(size, fill_value, dtype=dtype or self.dtype, device=device,
                              requires_grad=requires_grad)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False):
        return _creation.empty(*size, dtype=dtype or self.dtype, device=device,
                               requires_grad=requires_grad)

    # ----------------------------------------------------------------- in place
    # Each changes this tensor's memory and bumps its version (see deepnum.functions.inplace).
    def add_(self, other, alpha=1):
        return _inplace.add_(self, other, alpha)

    def sub_(self, other, alpha=1):
        return _inplace.add_(self, other, -alpha)

    def mul_(self, other):
        return _inplace.mul_(self, other)

    def div_(self, other, rounding_mode=None):
        return _inplace.div_(self, other, rounding_mode)

    def pow_(self, exponent):
        return _inplace.apply_(self, _f.pow, exponent)

    def neg_(self):
        return _inplace.apply_(self, _f.neg)

    def abs_(self):
        return _inplace.apply_(self, _f.abs)

    def exp_(self):
        return _inplace.apply_(self, _f.exp)

    def log_(self):
        return _inplace.apply_(self, _f.log)

    def sqrt_(self):
        return _inplace.apply_(self, _f.sqrt)

    def sigmoid_(self):
        return _inplace.apply_(self, _f.sigmoid)

    def tanh_(self):
        return _inplace.apply_(self, _f.tanh)

    def relu_(self):
        return _inplace.apply_(self, _f.relu)

    def floor_(self):
        return _inplace.apply_(self, _f.floor)

    def ceil_(self):
        return _inplace.apply_(self, _f.ceil)

    def trunc_(self):
        return _inplace.apply_(self, _f.trunc)

    def sign_(self):
        return _inplace.apply_(self, _f.sign)

    def square_(self):
        return _inplace.apply_(self, _f.square)

    def sin_(self):
        return _inplace.apply_(self, _f.sin)

    def cos_(self):
        return _inplace.apply_(self, _f.cos)

    def reciprocal_(self):
        return _inplace.apply_(self, _f.reciprocal)

    def rsqrt_(self):
        return _inplace.apply_(self, _f.rsqrt)

    def log1p_(self):
        return _inplace.apply_(self, _f.log1p)

    def expm1_(self):
        return _inplace.apply_(self, _f.expm1)

    def erf_(self):
        return _inplace.apply_(self, _f.erf)

    def fmod_(self, other):
        return _inplace.apply_(self, _f.fmod, other)

    def remainder_(self, other):
        return _inplace.apply_(self, _f.remainder, other)

    def atan2_(self, other):
        return _inplace.apply_(self, _f.atan2, other)

    def logical_not_(self):
        return _inplace.apply_(self, _f.logical_not)

    def cumsum_(self, dim):
        return _inplace.apply_(self, _f.cumsum, dim)

    def round_(self, decimals: int = 0):
        return _inplace.apply_(self, _f.round, decimals=decimals)

    def clamp_(self, min=None, max=None):  # noqa: A002
        return _inplace.clamp_(self, min, max)

    clip_ = clamp_

    def clamp_min_(self, min):  # noqa: A002
        return _inplace.clamp_(self, min, None)

    def clamp_max_(self, max):  # noqa: A002
        return _inplace.clamp_(self, None, max)

    def lerp_(self, end, weight):
        return _inplace.apply_(self, _f.lerp, end, weight)

    def addcmul_(self, tensor1, tensor2, value=1):
        return _inplace.add_(self, _f.mul(tensor1, tensor2), value)

    def addcdiv_(self, tensor1, tensor2, value=1):
        return _inplace.add_(self, _f.div(tensor1, tensor2), value)

    def masked_fill_(self, mask, value):
        return _inplace.apply_(self, _f.masked_fill, mask, value)

    def scatter_(self, dim, index, src=None, value=None, reduce=None):
        return _inplace.apply_(self, _f.scatter, dim, index, src, value=value, reduce=reduce)

    def scatter_add_(self, dim, index, src):
        return _inplace.apply_(self, _f.scatter_add, dim, index, src)

    def index_fill_(self, dim, index, value):
        return _inplace.apply_(self, _f.index_fill, dim, index, value)

    def index_add_(self, dim, index, source, *, alpha=1):
        return _inplace.apply_(self, _f.index_add, dim, index, source, alpha=alpha)

    def copy_(self, src, non_blocking: bool = False):
        return _inplace.copy_(self, src)

    def zero_(self):
        return _inplace.fill_(self, 0)

    def fill_(self, value):
        return _inplace.fill_(self, value)

    def normal_(self, mean=0.0, std=1.0, generator=None):
        return _inplace.random_(self, "normal", mean, std, generator=generator)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        return _inplace.random_(self, "uniform", a, b, generator=generator)

    def bernoulli_(self, p=0.5, generator=None):
        return _inplace.random_(self, "bernoulli", p, generator=generator)

    def exponential_(self, lambd=1.0, generator=None):
        return _inplace.random_(self, "exponential", lambd, generator=generator)

    def random_(self, low=0, high=None, generator=None):
        return _inplace.random_(self, "integers", low, high, generator=generator)

    def fill_diagonal_(self, fill_value, wrap: bool = False):
        return _inplace.fill_diagonal_(self, fill_value, wrap)

    def unsqueeze_(self, dim: int):
        return _inplace.reshape_(self, self.unsqueeze(dim).shape)

    def squeeze_(self, dim=None):
        return _inplace.reshape_(self, self.squeeze(dim).shape)

    def transpose_(self, dim0: int, dim1: int):
        return _inplace.restride_(self, lambda x: x.transpose(dim0, dim1))

    def t_(self):
        return _inplace.restride_(self, lambda x: x.t())

    def resize_(self, *sizes):
        return _inplace.resize_(self, _shape_args(sizes))


def _shape_args(args) -> tuple:
    """(2, 3), ((2, 3),) and ([2, 3],) all mean the shape (2, 3), as in PyTorch."""
    if len(args) == 1 and isinstance(args[0], (tuple, list, Size)):
        return tuple(args[0])
    return tuple(args)


def _init(t: Tensor, array: np.ndarray) -> None:
    t.array = array
    t.requires_grad = False
    t.grad = None
    t._ctx = None
    t._index = 0
    t._version = 0
    t._base = None
    t._hooks = None
    t._retains = False


def _rebuild(array, requires_grad):
    t = Tensor._wrap(array)
    t.requires_grad = requires_grad
    return t


def _is_dtype_name(value) -> bool:
    return isinstance(value, str) and value in dtypes._BY_NAME


class Size(tuple):
    """A tensor's shape, as ``torch.Size``: a tuple with ``numel()``."""

    def numel(self) -> int:
        return int(np.prod(self, dtype=np.int64))

    def __repr__(self) -> str:
        return f"deepnum.Size({list(self)})"

    def __str__(self) -> str:  # messages print a shape as (5, 3), as they did for tuples
        return tuple.__repr__(self)


_TYPE_NAMES = {np.dtype(np.float32): "deepnum.FloatTensor", np.dtype(np.float64):
               "deepnum.DoubleTensor", np.dtype(np.float16): "deepnum.HalfTensor",
               np.dtype(np.int64): "deepnum.LongTensor", np.dtype(np.int32): "deepnum.IntTensor",
               np.dtype(np.int16): "deepnum.ShortTensor", np.dtype(np.int8): "deepnum.CharTensor",
               np.dtype(np.uint8): "deepnum.ByteTensor", np.dtype(np.bool_): "deepnum.BoolTensor"}
_TYPE_BY_NAME = {name: dtype for dtype, name in _TYPE_NAMES.items()}
_TYPE_BY_NAME.update({n.replace("deepnum.", "torch."): d for n, d in list(_TYPE_BY_NAME.items())})


# The methods call the functions and ops, which import Tensor from this module: they are bound
# here, after the class exists.
from deepnum import autograd as _autograd  # noqa: E402
from deepnum import creation as _creation  # noqa: E402
from deepnum import functions as _f  # noqa: E402
from deepnum.functions import inplace as _inplace  # noqa: E402
from deepnum.ops import movement as _movement  # noqa: E402
from deepnum.utils import hooks as _hooks  # noqa: E402
