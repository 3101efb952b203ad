"""The embedded default data set: scikit-learn's bundled 8x8 handwritten digits.

1,797 real digits (UCI "Optical Recognition of Handwritten Digits", 8x8 pixels with values 0..16)
ship inside scikit-learn, so this works offline with no download. scikit-learn is optional for
deepnum and is imported only when the digits are asked for.

>>> x_train, y_train, x_test, y_test = load_digits()
>>> x_train.shape, x_test.shape   # ((1438, 8, 8), (359, 8, 8))
"""

from __future__ import annotations

import numpy as np

from deepnum.data.split import train_val_split
from deepnum.errors import DataError


def load_digits(test_fraction: float = 0.2, seed: int = 0):
    """``(x_train, y_train, x_test, y_test)``: float32 (N, 8, 8) images in [0, 1], int64 labels.

    The split is stratified and seeded with its own generator, so the defaults always give the same
    1,438 / 359 split, whatever else used deepnum's random stream.

    >>> x_train, y_train, x_test, y_test = load_digits()
    >>> np.bincount(y_test)   # 35 to 37 of each digit
    """
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError:
        raise DataError(
            "the digits data set comes with scikit-learn, which is not installed; "
            "fix: pip install scikit-learn"
        ) from None
    bunch = sklearn_digits()
    images = (bunch.images / 16.0).astype(np.float32)  # pixel values are 0..16
    labels = bunch.target.astype(np.int64)
    return train_val_split(images, labels, val_fraction=test_fraction, seed=seed, stratify=True)
