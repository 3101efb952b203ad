"""Optional compiled kernels: a few loops that NumPy cannot fuse or spread over cores, compiled
by Numba when it is installed (``pip install "deepnum[fast]"``), with the pure-NumPy path kept.

Each kernel lives in the speed wing (:mod:`deepnum.fast`) next to the op that uses it, written
as the plain per-element loop of the formula; the wing's dispatch picks it when Numba is there::

    @jit.kernel("p[n] g[n] v[n]")         # its contract: checked before every call
    def _sgd_kernel(p, g, v, lr, mu): ...   # one pass, compiled; the NumPy rule gives the same

Both paths are tested to give the same results (bit for bit where the kernel does the same
float operations in the same order). Kernels are compiled on their first call and cached on disk,
so ``import deepnum`` never imports Numba. Parallel kernels split work so that every output
element is written by exactly one iteration, with no reductions across threads: the result does
not depend on the number of threads.

>>> from deepnum.fast import jit
>>> jit.enabled(), jit.enable(False)   # (True, None): turn the kernels off, e.g. to compare
"""

from __future__ import annotations

import inspect
import os
import re
import threading

import numpy as np

from deepnum.errors import DeepnumError

_state = {"enabled": None, "pool_chosen": False}  # enabled None: not decided yet
_launch = threading.Lock()  # one parallel kernel at a time (see _Kernel.__call__)


def _numba():
    try:
        import numba
    except ImportError:
        return None
    if not _state["pool_chosen"]:
        _choose_threading_layer(numba)
        _state["pool_chosen"] = True
    return numba


def _choose_threading_layer(numba) -> None:
    """TBB's pool when it is installed (it comes with the ``fast`` extra), else Numba's own
    workqueue; never OpenMP, Numba's usual second choice: its idle workers spin and fight
    OpenBLAS's spinning workers for the cores (measured on 2 cores: LeNet-5 training steps 3-8x
    slower than with TBB). A layer the user chose (NUMBA_THREADING_LAYER) is kept."""
    if numba.config.THREADING_LAYER == "default":
        # Numba tries these in order when it starts its pool; workqueue always loads
        numba.config.THREADING_LAYER_PRIORITY = ["tbb", "workqueue", "omp"]


def available() -> bool:
    """Whether Numba can be imported."""
    return _numba() is not None


def enabled() -> bool:
    """Whether ops use the compiled kernels: Numba is installed and nobody turned them off
    (``jit.enable(False)``, or ``DEEPNUM_JIT=0`` for a whole process such as the CLI)."""
    on = _state["enabled"]
    if on is None:
        on = _state["enabled"] = os.environ.get("DEEPNUM_JIT", "1") != "0" and available()
    return on


def enable(flag: bool = True) -> None:
    """Turn the compiled kernels on or off. Turning them on needs Numba."""
    if flag and not available():
        raise RuntimeError("deepnum.jit.enable(True) needs Numba: pip install 'deepnum[fast]'")
    _state["enabled"] = bool(flag)
    from deepnum import fast  # the wing's choices and plans depend on this switch

    fast._changed()


def set_num_threads(n: int) -> None:
    """Threads for the parallel kernels, capped at Numba's pool size (the cores, or
    NUMBA_NUM_THREADS). BLAS has its own pool: use threadpoolctl for that."""
    numba = _numba()
    if numba is not None:
        numba.set_num_threads(min(int(n), numba.config.NUMBA_NUM_THREADS))


# Inside a kernel, ``jit.prange(n)`` is a loop whose iterations may run on different cores.
# It is resolved when the kernel is compiled, after _Kernel has set it to numba.prange.
prange = range


class KernelArgumentError(DeepnumError, ValueError):
    """A compiled kernel was called with arrays that do not have the shapes, dtypes or memory
    layout it assumes. Numba compiles without bounds checks, so such a call could read or write
    outside an array; the guard refuses it before any compiled code runs."""


class Contract:
    """What a kernel assumes about its array arguments, checked before every call.

    ``shapes`` lists each array parameter with its dimensions, e.g. ``"p[n] g[n] v[n]"`` (three
    1-D arrays of one length) or ``"x[C,H,W,N] cols[K,B]"``. A dimension named twice must have
    the same size everywhere; a number is a fixed size. Every listed array must be a C-contiguous
    NumPy array of float32 or float64, or of integers where marked ``:int`` (``"arg[P]:int"``).
    ``where`` takes any of the sizes and the kernel's other arguments by name and returns True
    when they fit together (e.g. the im2col rows are C * kh * kw, strides are positive).
    """

    _entry = re.compile(r"(\w+)\[([\w,]*)\](:int)?")

    def __init__(self, func, shapes: str, where=None):
        names = list(inspect.signature(func).parameters)
        self.kernel, self.where = func.__name__, where
        self.where_names = [] if where is None else list(inspect.signature(where).parameters)
        self.arrays = []  # (position, name, dims, integer) per listed array
        for name, dims, integer in self._entry.findall(shapes):
            if name not in names:
                raise TypeError(f"{func.__name__}: contract names {name!r}, not a parameter")
            dims = tuple(int(d) if d.isdigit() else d for d in dims.split(",") if d)
            self.arrays.append((names.index(name), name, dims, bool(integer)))
        self.scalars = [(i, n) for i, n in enumerate(names)
                        if n not in {entry[1] for entry in self.arrays}]
        self._compile_fast_check()

    # The check runs before every call, and LeNet-5's im2col kernel is called once per block of
    # columns (73 kernel calls a training step): walking the contract as written costs ~6 us a
    # call, about 5% of a 2-thread step. So the contract is turned once into flat lists (which
    # array's which axis must equal which, where each ``where`` argument comes from), ~3 us a
    # call, and the walk (check_slowly) only runs to explain a refusal.
    def _compile_fast_check(self) -> None:
        first, self._equal, self._fixed = {}, [], []
        self._specs = [(position, len(dims), "iu" if integer else "fd", integer)
                       for position, _, dims, integer in self.arrays]
        for i, (_, _, dims, _) in enumerate(self.arrays):
            for axis, dim in enumerate(dims):
                if type(dim) is int:
                    self._fixed.append((i, axis, dim))
                elif dim in first:
                    self._equal.append((i, axis, *first[dim]))
                else:
                    first[dim] = (i, axis)
        scalars = {n: i for i, n in self.scalars}
        self._sources = [(None, scalars[n]) if n in scalars else first[n]
                         for n in self.where_names]

    def check(self, args) -> None:
        """Return if ``args`` fit the contract; else raise KernelArgumentError saying why."""
        for position, ndim, kinds, integer in self._specs:
            a = args[position]
            if (type(a) is not np.ndarray or a.ndim != ndim or not a.flags.c_contiguous
                    or (a.dtype.kind if integer else a.dtype.char) not in kinds):
                self._explain(args)
        shapes = [args[position].shape for position, _, _, _ in self._specs]
        for i, axis, size in self._fixed:
            if shapes[i][axis] != size:
                self._explain(args)
        for i, axis, j, axis_j in self._equal:
            if shapes[i][axis] != shapes[j][axis_j]:
                self._explain(args)
        if self.where is not None and not self.where(
                *[args[axis] if i is None else shapes[i][axis] for i, axis in self._sources]):
            self._explain(args)

    def _explain(self, args) -> None:
        """Raise the error that names what does not fit (``check`` found something)."""
        self.check_slowly(args)
        self._fail(f"the arguments do not fit ({self._shapes(args)})")  # never reached

    def check_slowly(self, args) -> None:
        """The contract walked as written: what ``check`` decides, with the reasons."""
        sizes = {}
        for position, name, dims, integer in self.arrays:
            a = args[position]
            if type(a) is not np.ndarray or a.ndim != len(dims):
                self._fail(f"{name} must be a {len(dims)}-D array, got "
                           f"{getattr(a, 'shape', type(a).__name__)}")
            if not a.flags.c_contiguous:
                self._fail(f"{name} must be C-contiguous")
            if a.dtype.kind not in "iu" if integer else a.dtype.char not in "fd":
                self._fail(f"{name} must hold {'integers' if integer else 'float32 or float64'}"
                           f", got {a.dtype}")
            for dim, size in zip(dims, a.shape):
                expected = dim if type(dim) is int else sizes.setdefault(dim, size)
                if size != expected:
                    self._fail(f"{name} has shape {a.shape}, but its {dim!r} axis must be "
                               f"{expected} ({self._shapes(args)})")
        if self.where is not None:
            values = {**sizes, **{n: args[i] for i, n in self.scalars}}
            if not self.where(*[values[n] for n in self.where_names]):
                self._fail(f"the sizes and arguments do not fit together ({self._shapes(args)})")

    def _shapes(self, args) -> str:
        return ", ".join(f"{name} {getattr(args[position], 'shape', '?')}"
                         for position, name, _, _ in self.arrays)

    def _fail(self, why: str):
        raise KernelArgumentError(f"compiled kernel {self.kernel}: {why}")


class _Kernel:
    """A function compiled with numba.njit on its first call (the import and compile are paid
    only by programs that run the op), called only with arrays that pass its :class:`Contract`."""

    def __init__(self, func, parallel: bool, contract: Contract):
        self.func, self.parallel, self.compiled = func, parallel, None
        self.contract = contract
        self.__doc__, self.__name__ = func.__doc__, func.__name__

    def __call__(self, *args):
        self.contract.check(args)  # before any compiled code runs: no unchecked length reaches it
        compiled = self.compiled
        if compiled is None:
            global prange
            numba = _numba()
            prange = numba.prange
            _compile_helpers(self.func, numba)
            compiled = self.compiled = numba.njit(self.func, parallel=self.parallel, cache=True,
                                                  nogil=True, error_model="numpy")
        if self.parallel:
            # a parallel kernel already uses every core; and the workqueue layer aborts the
            # process if two threads (e.g. two Playground sessions) launch kernels at once
            with _launch:
                return compiled(*args)
        return compiled(*args)


class _Helper:
    """A function that kernels call (see :func:`helper`); plain Python until a kernel using it
    is compiled, then replaced in its module by the compiled version."""

    def __init__(self, func, reassociate: bool):
        self.func, self.reassociate = func, reassociate


def helper(func=None, *, reassociate: bool = False):
    """Decorator: a function called from kernels (only from them: it takes no contract, so it
    is only ever given the arrays of a checked kernel call), compiled with the first of them.

    ``reassociate=True`` lets the compiler reorder its float additions (LLVM's ``reassoc``
    flag, nothing else of fast-math: NaN and infinities keep their meaning), which is what
    vectorises a sum: 6x on a float64 sum of float32 values. The order is then the compiled
    code's, the same on every run of a machine, and still one thread's per call."""
    if func is None:
        return lambda f: _Helper(f, reassociate)
    return _Helper(func, reassociate)


def _compile_helpers(func, numba) -> None:
    """Compile the helpers ``func`` calls (and theirs) and put them where its code finds them."""
    names = func.__globals__
    for name in func.__code__.co_names:
        found = names.get(name)
        if isinstance(found, _Helper):
            _compile_helpers(found.func, numba)
            names[name] = numba.njit(found.func, cache=True, nogil=True, error_model="numpy",
                                     fastmath={"reassoc"} if found.reassociate else False)


def kernel(shapes: str, where=None, parallel: bool = False):
    """Decorator: compile this loop with Numba when it is first called (``parallel`` lets
    ``jit.prange`` loops run on all cores). ``shapes`` and ``where`` are its :class:`Contract`:
    every call is checked against them first, and refused with KernelArgumentError."""
    return lambda func: _Kernel(func, parallel, Contract(func, shapes, where))
