"""Helpers to compare deepnum.utils.data with torch.utils.data: the same samples in both
libraries, and batches turned into plain Python/NumPy structures that can be compared."""

from __future__ import annotations

from collections import namedtuple

import numpy as np
import torch

import deepnum as dn

Point = namedtuple("Point", ["x", "label"])


def plain(batch):
    """A batch from either library as nested lists/dicts/tuples of (dtype name, ndarray), so two
    batches compare equal exactly when their structure, types, dtypes and values agree."""
    if isinstance(batch, (dn.Tensor, torch.Tensor)):
        array = batch.numpy() if isinstance(batch, dn.Tensor) else batch.detach().numpy()
        return ("tensor", array.dtype.name, array.shape, array.tolist())
    if isinstance(batch, dict):
        return {"dict": type(batch).__name__, **{k: plain(v) for k, v in batch.items()}}
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):
        return ("namedtuple", type(batch).__name__, [plain(v) for v in batch])
    if isinstance(batch, (list, tuple)):
        return (type(batch).__name__, [plain(v) for v in batch])
    if isinstance(batch, np.ndarray):
        return ("ndarray", batch.dtype.name, batch.tolist())
    return batch


class Samples:
    """A map-style dataset built from a function, subclassing either library's Dataset."""

    def __init__(self, base, n, make):
        self.base, self.n, self.make = base, n, make

    def dataset(self):
        make, n = self.make, self.n

        class Made(self.base):
            def __len__(self):
                return n

            def __getitem__(self, i):
                return make(i)

        return Made()


SAMPLE_KINDS = {
    "tuple of arrays": lambda i: (np.full(3, i, np.float32), np.int64(i % 3)),
    "python numbers": lambda i: (float(i) / 2, i, i % 2 == 0),
    "dict": lambda i: {"x": np.arange(2.0) + i, "name": f"s{i}", "id": i},
    "named tuple": lambda i: Point(np.float64(i), i % 2),
    "list": lambda i: [np.array([i, i + 1], np.int32), float(i)],
    "nested": lambda i: {"pair": (np.ones((2, 2)) * i, [i, -i]), "flag": np.bool_(i % 2)},
    "strings": lambda i: (f"id-{i}", b"raw"),
}


def both(kind: str, n: int = 11):
    """The same dataset for deepnum (samples with deepnum Tensors where torch has tensors)."""
    make = SAMPLE_KINDS[kind]
    return (Samples(dn.utils.data.Dataset, n, make).dataset(),
            Samples(torch.utils.data.Dataset, n, make).dataset())
