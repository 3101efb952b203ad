"""Samplers: the order in which a DataLoader reads a dataset, as PyTorch's.

A sampler yields indices (BatchSampler: lists of them). Each of deepnum's samplers also draws a
whole epoch at once as an array (``_indices()``), which the DataLoader slices into batches
without a Python loop over samples; the indices are the same either way.

A sampler without ``generator`` draws a fresh seed from deepnum's global generator at the start
of each epoch (as PyTorch), so ``dn.manual_seed`` fixes the order.

>>> sampler = WeightedRandomSampler(weights, num_samples=len(weights))
>>> loader = DataLoader(ds, batch_size=32, sampler=sampler)
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.random import rng_of


def _draw_rng(generator) -> np.random.Generator:
    """The generator for one epoch: ``generator``'s, or a new one seeded from the global stream
    (PyTorch's RandomSampler draws such a seed each epoch)."""
    if generator is not None:
        return rng_of(generator)
    seed = int(rng_of(None).integers(2**63))
    return np.random.Generator(np.random.PCG64(seed))


class Sampler:
    """Base class: ``__iter__`` yields indices (or batches of them); ``__len__`` if known."""

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """0, 1, ..., len(data_source) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def _indices(self) -> np.ndarray:
        return np.arange(len(self.data_source))

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation each epoch (``replacement=True``: ``num_samples`` independent
    uniform draws); ``num_samples`` > len without replacement repeats whole permutations."""

    def __init__(self, data_source, replacement: bool = False, num_samples: int | None = None,
                 generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got "
                            f"replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) \
                or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={self.num_samples}")

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _indices(self) -> np.ndarray:
        n, rng = len(self.data_source), _draw_rng(self.generator)
        if self.replacement:
            return rng.integers(0, n, size=self.num_samples)
        whole, rest = divmod(self.num_samples, n)
        parts = [rng.permutation(n) for _ in range(whole)] + [rng.permutation(n)[:rest]]
        return np.concatenate(parts)

    def __iter__(self):
        yield from self._indices().tolist()  # drawn at the first next(), as PyTorch's

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices, in a random order each epoch."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def _indices(self) -> np.ndarray:
        order = rng_of(self.generator).permutation(len(self.indices))  # as torch.randperm
        return np.asarray(self.indices, dtype=np.int64).reshape(-1)[order]

    def __iter__(self):
        yield from self._indices().tolist()

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights`` (with
    replacement by default): the usual cure for an unbalanced data set.

    >>> weights = 1.0 / np.bincount(labels)[labels]       # each class drawn equally often
    >>> sampler = WeightedRandomSampler(weights, num_samples=len(labels))
    """

    def __init__(self, weights, num_samples: int, replacement: bool = True, generator=None):
        from deepnum.utils.data.dataset import as_numpy

        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got "
                             f"num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got "
                             f"replacement={replacement}")
        weights = np.asarray(as_numpy(weights), dtype=np.float64)
        if weights.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights.shape)}")
        self.weights, self.num_samples = weights, num_samples
        self.replacement, self.generator = replacement, generator

    def _indices(self) -> np.ndarray:
        w = self.weights
        if not np.isfinite(w).all():  # checked when drawn, with torch.multinomial's messages
            raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
        if (w < 0).any():
            raise RuntimeError("invalid multinomial distribution (encountering probability "
                               "entry < 0)")
        if w.sum() <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        rng = rng_of(self.generator)
        if self.replacement:
            return rng.choice(len(w), size=self.num_samples, p=w / w.sum())
        if self.num_samples > len(w):
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without "
                               "replacement")
        # without replacement: the smallest of E_i / w_i (E exponential) come in the order of
        # successive weighted draws; weight-0 entries (key inf) last, as torch.multinomial's
        with np.errstate(divide="ignore"):
            keys = rng.exponential(size=len(w)) / w
        return np.argsort(keys, kind="stable")[:self.num_samples]

    def __iter__(self):
        yield from self._indices().tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler):
    """Groups another sampler's indices into lists of ``batch_size`` (the last one shorter, or
    dropped with ``drop_last``).

    >>> list(BatchSampler(SequentialSampler(range(5)), batch_size=2, drop_last=False))
    [[0, 1], [2, 3], [4]]
    """

    def __init__(self, sampler, batch_size: int, drop_last: bool):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def _fast(self) -> bool:
        """Whether the batches can be cut from one array of the epoch's indices: the sampler is
        one of deepnum's, not a subclass that reads its indices another way."""
        return type(self.sampler).__iter__ in _ARRAY_SAMPLERS

    def _index_arrays(self):
        """The batches as slices of the sampler's epoch array."""
        order = self.sampler._indices()
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            yield order[start:start + self.batch_size]

    def __iter__(self):
        if self._fast():
            for batch in self._index_arrays():
                yield batch.tolist()
            return
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


class DistributedSampler(Sampler):
    """Each rank's disjoint share of ``dataset``, reshuffled every epoch (PyTorch's
    ``torch.utils.data.distributed.DistributedSampler``).

    Every rank draws the same permutation of all N samples (from ``seed + epoch``: call
    :meth:`set_epoch` at each epoch's start, as in PyTorch; the Trainer does), pads it by repeating
    its start until it divides by ``num_replicas`` (or drops the tail with ``drop_last``) and
    takes every ``num_replicas``-th index from ``rank`` on. The shares are equal, so every rank
    runs the same number of steps. ``num_replicas``/``rank`` default to deepnum.distributed's.

    >>> sampler = DistributedSampler(dataset, shuffle=True, seed=0)
    >>> for epoch in range(epochs): sampler.set_epoch(epoch); ...
    """

    def __init__(self, dataset, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False):
        from deepnum import distributed as dist

        self.num_replicas = dist.get_world_size() if num_replicas is None else int(num_replicas)
        self.rank = dist.get_rank() if rank is None else int(rank)
        if not 0 <= self.rank < self.num_replicas:
            raise ValueError(f"Invalid rank {self.rank}, rank should be in the interval "
                             f"[0, {self.num_replicas - 1}]")
        self.dataset, self.shuffle, self.seed, self.drop_last = dataset, shuffle, seed, drop_last
        self.epoch = 0
        n = len(dataset)
        if drop_last and n % self.num_replicas:
            self.num_samples = n // self.num_replicas
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def _indices(self) -> np.ndarray:
        n = len(self.dataset)
        if self.shuffle:  # deepnum's PCG64 stream, not torch's (README: Coming from PyTorch)
            order = np.random.Generator(np.random.PCG64(self.seed + self.epoch)).permutation(n)
        else:
            order = np.arange(n)
        if self.drop_last:
            order = order[:self.total_size]
        elif self.total_size > n:
            order = np.concatenate([order, np.resize(order, self.total_size - n)])
        return order[self.rank:self.total_size:self.num_replicas]

    def __iter__(self):
        yield from self._indices().tolist()

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)


# the samplers whose __iter__ is "the epoch's array, one by one"
_ARRAY_SAMPLERS = {SequentialSampler.__iter__, RandomSampler.__iter__,
                   SubsetRandomSampler.__iter__, WeightedRandomSampler.__iter__,
                   DistributedSampler.__iter__}
