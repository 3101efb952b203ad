"""DistributedSampler: each rank's disjoint share of a data set, reshuffled every epoch.

Every rank draws the same permutation of all N samples (from ``seed + epoch``), pads it by
repeating its start until it divides by the number of ranks (or drops the tail with
``drop_last``), and takes every world_size-th index from its rank: equal shares, so every rank
runs the same number of steps, and the global batch is world_size x batch_size.

>>> sampler = DistributedSampler(dataset, shuffle=True, seed=0)
>>> for epoch in range(epochs): sampler.set_epoch(epoch); ...
"""

from __future__ import annotations

import math

import numpy as np


class DistributedSampler:
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

    def indices(self) -> np.ndarray:
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.Generator(np.random.PCG64(self.seed + self.epoch)).permutation(n)
        else:
            order = np.arange(n)
        if self.drop_last:
            order = order[:self.total_size]
        elif self.total_size > n:
            order = np.concatenate([order, np.resize(order, self.total_size - n)])
        return order[self.rank:self.total_size:self.num_replicas]

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)
