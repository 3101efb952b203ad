"""Feature scaling fitted on training data: standardisation and min-max scaling.

Fit on the training set only, then apply the same transform to validation and test data, so no
information leaks from them. A constant feature (zero spread) would divide by zero; it is scaled by
1 instead, so it maps to 0 (Standardize) or to the bottom of the range (MinMaxScale).

>>> scaler = Standardize().fit(x_train)
>>> x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
"""

from __future__ import annotations

import numpy as np

from deepnum.data.dataset import as_numpy
from deepnum.errors import DataError


class _Scaler:
    """Shared plumbing: ``y = (x - shift) / scale`` with statistics over ``axis``."""

    def __init__(self, axis=0):
        self.axis = axis
        self.shift: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    def fit(self, x):
        raise NotImplementedError

    def transform(self, x) -> np.ndarray:
        """Scale ``x`` with the fitted statistics, keeping a float dtype (float32 stays float32)."""
        if self.shift is None:
            raise DataError(f"{type(self).__name__}: call fit(x_train) before transform")
        x = _as_float(x)
        return ((x - self.shift) / self.scale).astype(x.dtype, copy=False)

    def fit_transform(self, x) -> np.ndarray:
        """``fit(x)`` then ``transform(x)``."""
        return self.fit(x).transform(x)

    def inverse_transform(self, y) -> np.ndarray:
        """Undo :meth:`transform`."""
        if self.shift is None:
            raise DataError(f"{type(self).__name__}: call fit(x_train) before inverse_transform")
        y = _as_float(y)
        return (y * self.scale + self.shift).astype(y.dtype, copy=False)

    def state_dict(self) -> dict:
        """The fitted statistics, to save next to a model."""
        return {"shift": self.shift, "scale": self.scale}

    def load_state_dict(self, state: dict) -> None:
        """Restore statistics saved by :meth:`state_dict`."""
        self.shift, self.scale = np.asarray(state["shift"]), np.asarray(state["scale"])


class Standardize(_Scaler):
    """Subtract the mean and divide by the standard deviation, per feature (``axis=0``).

    Use ``axis=(0, 2, 3)`` for per-channel statistics of (N, C, H, W) images.

    >>> scaler = Standardize().fit(x_train)
    >>> scaler.mean.shape, scaler.std.shape   # (1, num_features) each
    """

    def fit(self, x):
        x = _as_float(x)
        self.shift = x.mean(axis=self.axis, keepdims=True)
        self.scale = _nonzero(x.std(axis=self.axis, keepdims=True))
        return self

    @property
    def mean(self):
        return self.shift

    @property
    def std(self):
        return self.scale


class MinMaxScale(_Scaler):
    """Map each feature's training range onto ``feature_range`` (default [0, 1]).

    >>> scaler = MinMaxScale(feature_range=(-1, 1)).fit(x_train)
    >>> scaler.transform(x_train).min(), scaler.transform(x_train).max()   # (-1.0, 1.0)
    """

    def __init__(self, feature_range=(0.0, 1.0), axis=0):
        super().__init__(axis)
        low, high = feature_range
        if not low < high:
            raise DataError(f"MinMaxScale: feature_range needs low < high, got {feature_range}")
        self.feature_range = (low, high)

    def fit(self, x):
        x = _as_float(x)
        low, high = self.feature_range
        minimum = x.min(axis=self.axis, keepdims=True)
        spread = _nonzero(x.max(axis=self.axis, keepdims=True) - minimum)
        # y = low + (x - min) / spread * (high - low), written as (x - shift) / scale.
        self.scale = spread / (high - low)
        self.shift = minimum - low * self.scale
        return self


def _as_float(x) -> np.ndarray:
    """``x`` as a float array (integers such as uint8 pixels become float32)."""
    x = as_numpy(x)
    if x.size == 0:
        raise DataError("cannot scale an empty array")
    return x if x.dtype.kind == "f" else x.astype(np.float32)


def _nonzero(spread: np.ndarray) -> np.ndarray:
    """Replace zero (or non-finite) spreads by 1 so constant features never divide by zero."""
    return np.where(np.isfinite(spread) & (spread > 0), spread, 1).astype(spread.dtype)
