"""One seeded random generator for everything random in deepnum.

Initialisation, dropout masks, data shuffling and toy data all draw from the generator returned by
:func:`get_rng`, so ``dn.manual_seed(s)`` makes a whole run bit-for-bit repeatable, and
:func:`get_state` / :func:`set_state` let a checkpoint resume the exact random stream.

>>> import deepnum as dn
>>> dn.manual_seed(0); a = dn.randn(3); dn.manual_seed(0); b = dn.randn(3)   # a == b
"""

from __future__ import annotations

import numpy as np

_rng = np.random.Generator(np.random.PCG64(0))  # the global stream (default_generator's)


def _check_seed(seed) -> int:
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise ValueError(f"manual_seed: seed must be a non-negative integer, got {seed!r}")
    return int(seed)


class Generator:
    """A random generator of its own (``torch.Generator``): pass ``generator=`` to a factory,
    an in-place random fill or a DataLoader to draw from it instead of the global stream.

    >>> g = dn.Generator().manual_seed(42)
    >>> dn.randn(3, generator=g)
    """

    def __init__(self, device="cpu"):
        self.rng = np.random.Generator(np.random.PCG64(0))
        self._seed = 0

    def manual_seed(self, seed: int) -> Generator:
        self._seed = _check_seed(seed)
        self.rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        self._seed = int(np.random.SeedSequence().entropy % 2**63)
        self.rng = np.random.Generator(np.random.PCG64(self._seed))
        return self._seed

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> Generator:
        self.rng.bit_generator.state = state
        return self


default_generator = Generator()
default_generator.rng = _rng


def manual_seed(seed: int) -> Generator:
    """Reseed deepnum's generator (PCG64); returns it, as ``torch.manual_seed``."""
    global _rng
    seed = _check_seed(seed)
    default_generator.manual_seed(seed)
    _rng = default_generator.rng
    return default_generator


def seed() -> int:
    """Reseed from the operating system's entropy; returns the seed."""
    global _rng
    value = default_generator.seed()
    _rng = default_generator.rng
    return value


def initial_seed() -> int:
    return default_generator.initial_seed()


def rng_of(generator) -> np.random.Generator:
    """The NumPy generator to draw from: ``generator``'s, or deepnum's global one."""
    return get_rng() if generator is None else generator.rng


def get_rng() -> np.random.Generator:
    """The generator every random deepnum operation draws from."""
    return _rng


def get_state() -> dict:
    """The generator's full state, a JSON-serialisable dict (for checkpoints)."""
    return _rng.bit_generator.state


def set_state(state: dict) -> None:
    """Restore a state taken by :func:`get_state`."""
    _rng.bit_generator.state = state


get_rng_state, set_rng_state = get_state, set_state
