"""One seeded random generator for everything random in deepnum.

Initialisation, dropout masks, data shuffling and toy data all draw from the generator returned by
:func:`get_rng`, so ``dn.manual_seed(s)`` makes a whole run bit-for-bit repeatable, and
:func:`get_state` / :func:`set_state` let a checkpoint resume the exact random stream.

>>> import deepnum as dn
>>> dn.manual_seed(0); a = dn.randn(3); dn.manual_seed(0); b = dn.randn(3)   # a == b
"""

from __future__ import annotations

import numpy as np

_rng = np.random.Generator(np.random.PCG64(0))


def manual_seed(seed: int) -> np.random.Generator:
    """Reseed deepnum's generator (PCG64) and return it."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    global _rng
    _rng = np.random.Generator(np.random.PCG64(int(seed)))
    return _rng


def get_rng() -> np.random.Generator:
    """The generator every random deepnum operation draws from."""
    return _rng


def get_state() -> dict:
    """The generator's full state, a JSON-serialisable dict (for checkpoints)."""
    return _rng.bit_generator.state


def set_state(state: dict) -> None:
    """Restore a state taken by :func:`get_state`."""
    _rng.bit_generator.state = state
