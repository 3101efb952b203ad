"""Fetchers: read one batch (a list of indices) from a dataset and collate it. The same code runs
in the main process and in the DataLoader's workers.

A TensorDataset (or Subsets of one) read with the default collate is batched by fancy-indexing
each whole array once, which gives exactly what collating the samples one by one would.
"""

from __future__ import annotations

import numpy as np

from deepnum.tensor import Tensor
from deepnum.utils.data.collate import default_collate
from deepnum.utils.data.dataset import as_arrays


class MapFetcher:
    """Batches of a map-style dataset: ``dataset.__getitems__(indices)`` when it has one, else
    ``[dataset[i] for i in indices]``, collated (``auto_collation=False``: one sample,
    converted)."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool):
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        self.arrays = as_arrays(dataset) if auto_collation and collate_fn is default_collate \
            else None

    def fetch(self, index):
        if self.arrays is not None:
            arrays, index_map = self.arrays
            rows = np.asarray(index, dtype=np.int64)
            rows = rows if index_map is None else index_map[rows]
            return [Tensor._wrap(a.take(rows, axis=0)) for a in arrays]  # a[rows], faster
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        getitems = getattr(self.dataset, "__getitems__", None)
        samples = getitems(index) if getitems else [self.dataset[i] for i in index]
        return self.collate_fn(samples)


class IterableFetcher:
    """Batches of an iterable dataset: the next ``len(index)`` items of its stream (StopIteration
    when it is exhausted, or when ``drop_last`` and the last batch is short)."""

    def __init__(self, dataset, auto_collation: bool, collate_fn, drop_last: bool):
        self.iterator = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, \
            drop_last
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        samples = []
        for _ in index:
            try:
                samples.append(next(self.iterator))
            except StopIteration:
                self.ended = True
                break
        if not samples or (self.drop_last and len(samples) < len(index)):
            raise StopIteration
        return self.collate_fn(samples)


def make_fetcher(iterable: bool, dataset, auto_collation, collate_fn, drop_last):
    kind = IterableFetcher if iterable else MapFetcher
    return kind(dataset, auto_collation, collate_fn, drop_last)
