"""ReLU's forward as one compiled pass over memory (deepnum.jit) for large activations.

NumPy's float ``maximum`` runs far below memory speed on this project's machines (NumPy 2.4,
measured, 1 thread, 802,816 float32 values, a ResNet-50 activation: ``np.maximum(a, 0, out=a)``
312-363 us, ``np.add(a, 0, out=a)`` 70 us), and the reference ReLU
(:mod:`deepnum.ops.elementwise`) is that ``maximum``. The kernel computes the same function,
``0 if x <= 0 else x`` (NaN stays NaN and -0.0 becomes 0.0, as ``np.maximum(x, 0)``): the same
bits (tested). Small arrays (below :data:`MIN_SIZE`) keep NumPy's call, which is cheaper than a
kernel call there. The backward (g where y > 0) is the reference's.
"""

from __future__ import annotations

import numpy as np

from deepnum.fast import jit, speeds_up
from deepnum.ops import activation, elementwise

# np.maximum(a, 0) vs the kernel, 1 thread: 16,384 values 9.4 vs 4.2 us, 65,536: 33.4 vs 8.3
# us, 802,816: 340 vs 75 us (in place: 51 us); 4,096: 2.3 vs 3.0 us (another run: the call's
# checks). The kernels are serial: the pass is memory-bound, and a parallel launch cost more
# than it gave.
MIN_SIZE = 16384


def relu(a: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """max(a, 0) into ``out`` (a new array in a's memory order if None; ``out=a`` is in place):
    the kernel when it is on and fits, else NumPy's."""
    flat = None if a.size < MIN_SIZE or a.dtype.char not in "fd" or not jit.enabled() \
        else _flat(a)
    if flat is None:
        return np.maximum(a, 0, dtype=a.dtype, out=out)
    if out is a:
        _relu_in_place(flat, a.dtype.type(0))
        return out
    if out is None:
        out = np.empty_like(a)
    target = _flat(out)
    if target is None or out.strides != a.strides or np.may_share_memory(out, a):
        return np.maximum(a, 0, dtype=a.dtype, out=out)
    _relu(flat, target, a.dtype.type(0))
    return out


def _flat(a: np.ndarray):
    """The array's memory as a 1-D view (any memory order), or None if it has gaps."""
    flat = a.ravel(order="K")  # a view when the memory is one block, else a copy
    return flat if np.may_share_memory(flat, a) else None


def _fits(batch) -> bool:
    return jit.enabled()


@speeds_up(elementwise.ReLU, when=_fits)
class KernelReLU(elementwise.ReLU):
    maximum = staticmethod(relu)


@speeds_up(activation.ReLUInPlace, when=_fits)
class KernelReLUInPlace(activation.ReLUInPlace):
    maximum = staticmethod(relu)


@jit.kernel("x[n] out[n]")
def _relu(x, out, zero):
    for k in range(x.size):
        v = x[k]
        out[k] = zero if v <= zero else v


@jit.kernel("x[n]")
def _relu_in_place(x, zero):
    """_relu with out=x: one array, so the compiler needs no overlap check to vectorise (with
    two names for one memory its runtime check falls back to the scalar loop: 3.5x slower)."""
    for k in range(x.size):
        v = x[k]
        x[k] = zero if v <= zero else v
