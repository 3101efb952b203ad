"""Datasets with PyTorch's interface: a map-style dataset has ``__getitem__(i)`` (and usually
``__len__``), an iterable one ``__iter__``.

:class:`TensorDataset` holds whole tensors, which lets the DataLoader cut a batch with one
fancy-indexing operation per tensor instead of a Python loop over samples; a :class:`Subset` of
one (what :func:`random_split` returns) keeps that fast path (:func:`as_arrays`).

>>> ds = TensorDataset(dn.randn(100, 2), dn.arange(100))
>>> x3, y3 = ds[3]
>>> train, val = random_split(ds, [0.8, 0.2], generator=dn.Generator().manual_seed(0))
"""

from __future__ import annotations

import bisect
import itertools
import math
import warnings
from collections.abc import Iterable

import numpy as np

from deepnum.errors import DataError
from deepnum.tensor import Tensor


class Dataset:
    """Base class of map-style datasets: subclasses return one sample from ``__getitem__``.

    >>> class Squares(Dataset):
    ...     def __len__(self): return 10
    ...     def __getitem__(self, i): return dn.tensor(float(i)), i * i
    """

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset, Iterable):
    """Base class of datasets read as a stream (``__iter__``): files, generators, shards. In a
    DataLoader with workers each worker iterates its own copy; use :func:`get_worker_info` in
    ``__iter__`` to give each worker its share."""

    def __add__(self, other: Dataset) -> ChainDataset:
        return ChainDataset([self, other])


def as_numpy(value) -> np.ndarray:
    """The ndarray of a deepnum Tensor (``.array``) or of a PyTorch tensor, or ``np.asarray``."""
    array = getattr(value, "array", None)
    if isinstance(array, np.ndarray):
        return array
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


class SizeMismatchError(DataError, AssertionError):
    """Tensors of different lengths given to TensorDataset (PyTorch's AssertionError)."""


class TensorDataset(Dataset):
    """Sample i is ``(t[i] for t in tensors)``; the tensors share their first dimension. Accepts
    deepnum Tensors, NumPy arrays and PyTorch tensors (arrays are wrapped without a copy).

    >>> ds = TensorDataset(x_train, y_train)
    >>> x0, y0 = ds[0]
    """

    def __init__(self, *tensors):
        if not tensors:
            raise IndexError("TensorDataset needs at least one tensor")
        # the Tensors themselves (as PyTorch keeps them); arrays and torch tensors wrapped
        self.tensors = tuple(t if isinstance(t, Tensor) else Tensor._wrap(as_numpy(t))
                             for t in tensors)
        if any(t.array.ndim == 0 for t in self.tensors) or \
                len({len(t.array) for t in self.tensors}) != 1:
            shapes = ", ".join(str(t.shape) for t in self.tensors)
            raise SizeMismatchError(f"Size mismatch between tensors: shapes {shapes}")

    @property
    def arrays(self) -> tuple[np.ndarray, ...]:
        return tuple(t.array for t in self.tensors)

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return len(self.tensors[0].array)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{t.array.dtype}{list(t.shape)}" for t in self.tensors)
        return f"TensorDataset({shapes})"


class StackDataset(Dataset):
    """Sample i combines sample i of each dataset: a tuple (positional) or a dict (keywords).

    >>> ds = StackDataset(image=images, label=labels)     # ds[0] == {"image": ..., "label": ...}
    """

    def __init__(self, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Supported either ``tuple``- (via ``args``) or``dict``- (via "
                             "``kwargs``) like input/output, but both types are given.")
        if not args and not kwargs:
            raise ValueError("At least one dataset should be passed")
        self.datasets = args or kwargs
        parts = args or list(kwargs.values())
        self._length = len(parts[0])
        if any(len(d) != self._length for d in parts):
            raise ValueError("Size mismatch between datasets")

    def __getitem__(self, index):
        if isinstance(self.datasets, dict):
            return {k: d[index] for k, d in self.datasets.items()}
        return tuple(d[index] for d in self.datasets)

    def __len__(self) -> int:
        return self._length


class ConcatDataset(Dataset):
    """The samples of several datasets one after the other (``ds1 + ds2``)."""

    @staticmethod
    def cumsum(sequence) -> list[int]:
        return list(itertools.accumulate(len(d) for d in sequence))

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


class ChainDataset(IterableDataset):
    """The streams of several iterable datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self) -> int:
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    >>> evens = Subset(ds, range(0, len(ds), 2))
    """

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices: list) -> list:
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[i] for i in indices])
        return [self.dataset[self.indices[i]] for i in indices]

    def __len__(self) -> int:
        return len(self.indices)


def random_split(dataset, lengths, generator=None, *, seed: int | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of the given lengths:
    counts summing to ``len(dataset)``, or fractions summing to 1 (the remainder of rounding
    goes to the first parts, one each, as in PyTorch). Draws from ``generator`` (deepnum's
    global one by default, as PyTorch's ``default_generator``) or, deepnum's extra, from a
    private generator seeded with ``seed``.

    >>> train_ds, val_ds = random_split(ds, [0.9, 0.1], generator=dn.Generator().manual_seed(0))
    """
    from deepnum.creation import randperm
    from deepnum.random import Generator

    if seed is not None:
        generator = Generator().manual_seed(seed)
    lengths = list(lengths)
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = []
        for i, fraction in enumerate(lengths):
            if fraction < 0 or fraction > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            counts.append(math.floor(n * fraction))
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, count in enumerate(counts):
            if count == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty "
                              f"dataset.", stacklevel=2)
        lengths = counts
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = randperm(sum(lengths), generator=generator).tolist()
    return [Subset(dataset, order[end - size:end])
            for end, size in zip(itertools.accumulate(lengths), lengths)]


def as_arrays(dataset) -> tuple[tuple[np.ndarray, ...], np.ndarray | None] | None:
    """``(arrays, index_map)`` if ``dataset`` can be batched by fancy indexing, else None: a
    TensorDataset, or Subsets of one (``index_map`` translates a subset's positions to rows of
    the arrays; None: identity). Subclasses that change how a sample is read are not batched
    this way."""
    index_map = None
    while type(dataset).__getitem__ is Subset.__getitem__ and isinstance(dataset, Subset) \
            and type(dataset).__getitems__ is Subset.__getitems__:
        rows = np.asarray(dataset.indices, dtype=np.int64).reshape(-1)
        index_map = rows if index_map is None else rows[index_map]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset) and type(dataset).__getitem__ is \
            TensorDataset.__getitem__ and getattr(dataset, "__getitems__", None) is None:
        return dataset.arrays, index_map
    return None
