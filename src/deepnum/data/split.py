"""Split data into training and validation parts, reproducibly.

Both functions take their own ``seed`` so that a split never depends on how much of deepnum's global
random stream something else used before (the digits and ``mnist-test`` splits are always the same).
:func:`train_val_split` stratifies class labels by default, so a rare class is not left out of the
validation set by chance.

``random_split`` is PyTorch's (in :mod:`deepnum.utils.data`), with deepnum's ``seed=`` too.

>>> x_tr, y_tr, x_val, y_val = train_val_split(x, y, val_fraction=0.2, seed=0)
>>> train_ds, val_ds = random_split(TensorDataset(x, y), [0.8, 0.2], seed=0)
"""

from __future__ import annotations

import numpy as np

from deepnum.errors import DataError
from deepnum.random import get_rng
from deepnum.utils.data.dataset import random_split  # noqa: F401 - re-exported


def train_val_split(x, y, val_fraction: float = 0.2, seed: int | None = 0, stratify: bool = True):
    """Return ``(x_train, y_train, x_val, y_val)`` with ``val_fraction`` of the samples held out.

    With ``stratify=True`` and class labels (integers, booleans or strings) each class contributes
    the same fraction to both parts; float targets (regression) are split uniformly at random.
    ``seed=None`` draws from deepnum's global generator instead.

    >>> x_tr, y_tr, x_val, y_val = train_val_split(x, y, 0.25, seed=1)
    >>> len(x_val) / len(x)   # 0.25, up to rounding within each class
    """
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise DataError(f"train_val_split: x has {len(x)} samples but y has {len(y)}")
    if not 0 < val_fraction < 1:
        raise DataError(f"train_val_split: val_fraction must lie in (0, 1), got {val_fraction}")
    rng = _generator(seed)
    val = _val_indices(y, val_fraction, rng, stratify and y.dtype.kind in "biuUSO")
    is_val = np.zeros(len(y), dtype=bool)
    is_val[val] = True
    train, val = np.flatnonzero(~is_val), np.flatnonzero(is_val)
    if len(train) == 0 or len(val) == 0:
        raise DataError(
            f"train_val_split: {len(y)} samples are too few for val_fraction={val_fraction} "
            f"(got {len(train)} train and {len(val)} validation samples)"
        )
    # Shuffle both parts so neither comes out sorted by class.
    train, val = rng.permutation(train), rng.permutation(val)
    return x[train], y[train], x[val], y[val]


def _val_indices(y, fraction, rng, stratify) -> np.ndarray:
    """Indices of the validation samples, drawn per class when ``stratify``."""
    if not stratify:
        return rng.permutation(len(y))[: _round(fraction * len(y))]
    picks = []
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        picks.append(members[: _round(fraction * len(members))])
    return np.concatenate(picks)


def _round(value: float) -> int:
    """Round half up (Python's round() goes to even, which surprises here)."""
    return int(np.floor(value + 0.5))


def _generator(seed) -> np.random.Generator:
    """A private generator from ``seed``, or one drawn from the global stream when None."""
    if seed is None:
        seed = int(get_rng().integers(2**63))
    return np.random.Generator(np.random.PCG64(seed))
