"""Optional compiled kernels: a few loops that NumPy cannot fuse or spread over cores, compiled
by Numba when it is installed (``pip install "deepnum[fast]"``), with the pure-NumPy path kept.

Each kernel lives next to the op that uses it, written as the plain per-element loop of the
formula, and the op picks a path at call time::

    if jit.enabled():
        _sgd_kernel(p, g, v, lr, mu)      # one pass, compiled, both cores
    else:
        v *= mu; v += g; p -= lr * v      # the NumPy path: same numbers

Both paths are tested to give the same results (bit for bit where the kernel does the same
float operations in the same order). Kernels are compiled on their first call and cached on disk,
so ``import deepnum`` never imports Numba. Parallel kernels split work so that every output
element is written by exactly one iteration, with no reductions across threads: the result does
not depend on the number of threads.

>>> from deepnum import jit
>>> jit.enabled(), jit.enable(False)   # (True, None): turn the kernels off, e.g. to compare
"""

from __future__ import annotations

import os
import threading

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


def set_num_threads(n: int) -> None:
    """Threads for the parallel kernels, capped at Numba's pool size (the cores, or
    NUMBA_NUM_THREADS). BLAS has its own pool: use threadpoolctl for that."""
    numba = _numba()
    if numba is not None:
        numba.set_num_threads(min(int(n), numba.config.NUMBA_NUM_THREADS))


# Inside a kernel, ``jit.prange(n)`` is a loop whose iterations may run on different cores.
# It is resolved when the kernel is compiled, after _Kernel has set it to numba.prange.
prange = range


class _Kernel:
    """A function compiled with numba.njit on its first call (the import and compile are paid
    only by programs that run the op)."""

    def __init__(self, func, parallel: bool):
        self.func, self.parallel, self.compiled = func, parallel, None
        self.__doc__, self.__name__ = func.__doc__, func.__name__

    def __call__(self, *args):
        compiled = self.compiled
        if compiled is None:
            global prange
            numba = _numba()
            prange = numba.prange
            compiled = self.compiled = numba.njit(self.func, parallel=self.parallel, cache=True,
                                                  nogil=True, error_model="numpy")
        if self.parallel:
            # a parallel kernel already uses every core; and the workqueue layer aborts the
            # process if two threads (e.g. two Playground sessions) launch kernels at once
            with _launch:
                return compiled(*args)
        return compiled(*args)


def kernel(parallel: bool = False):
    """Decorator: compile this loop with Numba when it is first called (``parallel`` lets
    ``jit.prange`` loops run on all cores)."""
    return lambda func: _Kernel(func, parallel)
