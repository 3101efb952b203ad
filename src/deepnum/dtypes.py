"""Element types: PyTorch's names (``dn.float32``, ``dn.long``, ``dn.bool``...) over NumPy's types,
the default floating type, and PyTorch's type-promotion rules.

A :class:`dtype` is accepted wherever NumPy takes a dtype (it carries ``.dtype``), compares equal to
the NumPy type it stands for (``x.dtype == np.float32``), and prints as PyTorch's does.

Promotion follows ``torch.result_type``: the result's *category* (bool < integer < floating) is the
highest among the operands; within it, tensors with dimensions outrank zero-dimensional tensors,
which outrank Python numbers. So ``int_tensor + 0.5`` is float32 (the default floating type, not
NumPy's float64), ``float16_tensor * 2.0`` stays float16, ``float32 + zero-dim float64`` stays
float32.

>>> dn.tensor([1, 2]) / 2                 # tensor([0.5, 1. ]): dtype deepnum.float32
>>> dn.set_default_dtype(dn.float64)      # Python floats and factories now make float64
"""

from __future__ import annotations

import builtins
import numbers

import numpy as np

_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}


class dtype:  # noqa: N801 - named like torch.dtype
    """A tensor element type (``dn.float32`` ...); ``.numpy`` is the NumPy dtype."""

    __slots__ = ("name", "numpy")

    def __init__(self, name: str, numpy_name: str):
        self.name, self.numpy = name, np.dtype(numpy_name)

    # what NumPy reads when it is given this object as a dtype
    @property
    def dtype(self) -> np.dtype:
        return self.numpy

    @property
    def is_floating_point(self) -> bool:
        return self.numpy.kind == "f"

    @property
    def is_complex(self) -> bool:
        return self.numpy.kind == "c"

    @property
    def is_signed(self) -> bool:
        return self.numpy.kind in "ifc"

    @property
    def itemsize(self) -> int:
        return self.numpy.itemsize

    # the NumPy dtype's own attributes, for code that treats x.dtype as one
    @property
    def kind(self) -> str:
        return self.numpy.kind

    @property
    def char(self) -> str:
        return self.numpy.char

    @property
    def type(self):
        return self.numpy.type

    @property
    def str(self) -> builtins.str:
        return self.numpy.str

    def to_real(self) -> dtype:
        return self

    def __eq__(self, other) -> bool:
        if other is self:
            return True
        try:
            return np.dtype(other) == self.numpy
        except TypeError:
            return False

    def __hash__(self) -> int:
        return hash(self.numpy)

    def __repr__(self) -> str:
        return f"deepnum.{self.name}"

    def __reduce__(self):
        return as_dtype, (self.name,)


float16 = half = dtype("float16", "float16")
float32 = float = dtype("float32", "float32")  # noqa: A001 - PyTorch's name
float64 = double = dtype("float64", "float64")
complex64 = cfloat = dtype("complex64", "complex64")
complex128 = cdouble = dtype("complex128", "complex128")
uint8 = dtype("uint8", "uint8")
int8 = dtype("int8", "int8")
int16 = short = dtype("int16", "int16")
int32 = int = dtype("int32", "int32")  # noqa: A001
int64 = long = dtype("int64", "int64")
bool = dtype("bool", "bool")  # noqa: A001
uint16 = dtype("uint16", "uint16")
uint32 = dtype("uint32", "uint32")
uint64 = dtype("uint64", "uint64")

ALL = (float16, float32, float64, complex64, complex128, uint8, int8, int16, int32, int64, bool,
       uint16, uint32, uint64)
_BY_NUMPY = {d.numpy: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL} | {
    "half": float16, "float": float32, "double": float64, "short": int16, "int": int32,
    "long": int64, "cfloat": complex64, "cdouble": complex128}

_default = {"float": float32}


def as_dtype(value) -> dtype:
    """A deepnum dtype from a dtype, a NumPy dtype or type, a name ('float32', 'long'), or
    Python's float/int/bool."""
    if isinstance(value, dtype):
        return value
    if isinstance(value, builtins.str) and value in _BY_NAME:
        return _BY_NAME[value]
    if value is builtins.float:  # dtype=float means the default floating type, as in PyTorch
        return _default["float"]
    try:
        numpy_dtype = np.dtype(value)
    except TypeError:
        raise TypeError(f"not a dtype: {value!r}") from None
    found = _BY_NUMPY.get(numpy_dtype)
    if found is None:
        raise TypeError(f"deepnum has no dtype {numpy_dtype} (it has "
                        f"{', '.join(d.name for d in ALL)})")
    return found


def of(array: np.ndarray) -> dtype:
    """The deepnum dtype of an ndarray."""
    return _BY_NUMPY[array.dtype]


def set_default_dtype(d) -> None:
    """The floating type of Python floats, ``dn.tensor([0.5])`` and the factories (float32 unless
    set; float64 is the other choice, as in PyTorch)."""
    d = as_dtype(d)
    if d not in (float32, float64, float16):
        raise TypeError(f"set_default_dtype: only floating types are allowed, got {d}")
    _default["float"] = d


def get_default_dtype() -> dtype:
    return _default["float"]


def default_float() -> np.dtype:
    """The NumPy dtype of the default floating type (for the hot paths)."""
    return _default["float"].numpy


def category(numpy_dtype: np.dtype) -> int:
    return _CATEGORY[numpy_dtype.kind]


def promote_types(a, b) -> np.dtype:
    """torch.promote_types: the higher category wins outright (int64 with float32 is float32,
    not NumPy's float64); within one category NumPy's rule (int8 with uint8 is int16)."""
    a, b = np.dtype(a), np.dtype(b)
    if a == b:
        return a
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def result_type(*operands) -> np.dtype:
    """torch.result_type of tensors, arrays and Python numbers (see the module docstring)."""
    best_category, best = -1, None
    dimensioned, zero_dim, scalars = [], [], []
    for x in operands:
        array = getattr(x, "array", x)
        if isinstance(array, np.ndarray):
            (dimensioned if array.ndim else zero_dim).append(array.dtype)
        elif isinstance(array, np.generic):
            zero_dim.append(array.dtype)
        elif isinstance(array, numbers.Number):
            scalars.append(_scalar_dtype(array))
        else:
            raise TypeError(f"result_type: unsupported operand {type(x).__name__}")
    for group in (dimensioned, zero_dim):
        if group:
            promoted = group[0]
            for d in group[1:]:
                promoted = promote_types(promoted, d)
            if _CATEGORY[promoted.kind] > best_category:
                best_category, best = _CATEGORY[promoted.kind], promoted
    for d in scalars:
        if _CATEGORY[d.kind] > best_category:
            best_category, best = _CATEGORY[d.kind], d
    return best


def _scalar_dtype(value) -> np.dtype:
    if isinstance(value, (builtins.bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(value, numbers.Integral):
        return np.dtype(np.int64)
    if isinstance(value, numbers.Real):
        return _default["float"].numpy
    return np.dtype(np.complex64) if _default["float"] is float32 else np.dtype(np.complex128)
