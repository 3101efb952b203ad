"""Datasets with PyTorch's interface: anything with ``__len__`` and ``__getitem__(i)``.

:class:`TensorDataset` holds whole arrays, which lets :class:`~deepnum.data.DataLoader` cut a batch
with one fancy-indexing operation per array instead of a Python loop over samples. A
:class:`Subset` of a TensorDataset keeps that fast path.

>>> ds = TensorDataset(np.zeros((100, 2), np.float32), np.arange(100))
>>> len(ds), ds[3][1]   # (100, 3)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from deepnum.errors import DataError


def as_numpy(value) -> np.ndarray:
    """The ndarray of a deepnum Tensor (``.array``) or of a PyTorch tensor, or ``np.asarray``."""
    array = getattr(value, "array", None)
    if isinstance(array, np.ndarray):
        return array
    if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch.Tensor
        return value.detach().cpu().numpy()
    return np.asarray(value)


class Dataset:
    """Base class: subclasses return one sample (usually a tuple of arrays) from ``__getitem__``.

    >>> class Squares(Dataset):
    ...     def __len__(self): return 10
    ...     def __getitem__(self, i): return np.float32(i), i * i
    """

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")


class TensorDataset(Dataset):
    """Samples are rows of the given arrays (NumPy arrays or deepnum Tensors), which share length.

    >>> ds = TensorDataset(x_train, y_train)
    >>> x0, y0 = ds[0]
    """

    def __init__(self, *arrays):
        if not arrays:
            raise DataError("TensorDataset needs at least one array")
        # Tensors are unwrapped so batching is pure NumPy; the loader wraps batches again.
        self.arrays = tuple(as_numpy(a) for a in arrays)
        lengths = [len(a) if a.ndim else None for a in self.arrays]
        if None in lengths or len(set(lengths)) != 1:
            shapes = ", ".join(str(a.shape) for a in self.arrays)
            raise DataError(f"TensorDataset: arrays must share their first dimension, got {shapes}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index):
        return tuple(a[index] for a in self.arrays)

    def __repr__(self) -> str:
        shapes = ", ".join(f"{a.dtype}{list(a.shape)}" for a in self.arrays)
        return f"TensorDataset({shapes})"


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order.

    >>> evens = Subset(ds, range(0, len(ds), 2))
    >>> len(evens)   # half of ds
    """

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        n = len(dataset)
        if self.indices.size and (self.indices.min() < -n or self.indices.max() >= n):
            raise DataError(f"Subset: indices must lie in [0, {n}) for a dataset of {n} samples")

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, index):
        return self.dataset[int(self.indices[index])]


def as_arrays(dataset) -> tuple[tuple[np.ndarray, ...], np.ndarray | None] | None:
    """``(arrays, index_map)`` if ``dataset`` can be batched by fancy indexing, else None.

    ``index_map`` translates a subset's positions to rows of the arrays (None: identity). Nested
    subsets compose, so ``random_split`` of a TensorDataset still batches without a sample loop.
    """
    index_map = None
    while isinstance(dataset, Subset):
        index_map = dataset.indices if index_map is None else dataset.indices[index_map]
        dataset = dataset.dataset
    if isinstance(dataset, TensorDataset):
        return dataset.arrays, index_map
    return None
