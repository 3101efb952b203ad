"""Flush-to-zero: treat subnormal float numbers (below ~1.2e-38 in float32) as 0.

Numbers that small cost many CPUs tens of cycles per operation. They appear in training: a dead
ReLU unit's gradient is exactly 0, so its momentum buffer decays by 0.9 every step through the
subnormal range (measured: 0.1-0.4% of the fully connected layers' momentum entries of LeNet-5
after 4 epochs on the MNIST test digits). ``set_flush_denormal(True)`` sets the x86 FTZ and DAZ
bits of the calling thread's MXCSR register, as ``torch.set_flush_denormal`` does: NumPy's and
BLAS's work in that thread then rounds such numbers to 0 (a change of at most 1.2e-38 per
number). It needs Numba (the register is set from a compiled function) and an x86 CPU;
without them it returns False and changes nothing.

>>> dn.set_flush_denormal(True)     # True where supported
"""

from __future__ import annotations

import platform

_FTZ_DAZ = 0x8040  # MXCSR bit 15 (flush to zero) and bit 6 (denormals are zero)


def _functions():
    """(get, set) of the MXCSR register, compiled (deepnum.fast.mxcsr imports Numba)."""
    from deepnum.fast import mxcsr

    return mxcsr.get, mxcsr.set_


def supported() -> bool:
    from deepnum.fast import jit

    return jit.available() and platform.machine().lower() in ("x86_64", "amd64")


def set_flush_denormal(mode: bool) -> bool:
    """Flush subnormal numbers to zero in this thread (True) or stop (False); returns whether
    it is supported here (and so was done)."""
    if not supported():
        return False
    get, set_ = _functions()
    value = int(get())
    set_((value | _FTZ_DAZ) if mode else (value & ~_FTZ_DAZ))
    return True


def flushing() -> bool:
    """Whether this thread flushes subnormal numbers to zero now."""
    if not supported():
        return False
    return bool(int(_functions()[0]()) & _FTZ_DAZ == _FTZ_DAZ)
