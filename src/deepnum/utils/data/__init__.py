"""Data loading with PyTorch's names and semantics, ``torch.utils.data``: datasets, samplers,
collation and the DataLoader (with worker processes). The data sets themselves (MNIST, the toy
sets, CSV files) are in :mod:`deepnum.data`, whose DataLoader is this one.

>>> from deepnum.utils.data import DataLoader, TensorDataset, random_split
>>> train, val = random_split(TensorDataset(x, y), [0.9, 0.1])
>>> loader = DataLoader(train, batch_size=64, shuffle=True, num_workers=2)
"""

from deepnum.utils.data.collate import default_collate, default_convert
from deepnum.utils.data.dataset import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    StackDataset,
    Subset,
    TensorDataset,
    random_split,
)
from deepnum.utils.data.loader import DataLoader
from deepnum.utils.data.sampler import (
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    Sampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)
from deepnum.utils.data.worker import WorkerInfo, get_worker_info

__all__ = ["BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset",
           "DistributedSampler",
           "IterableDataset", "RandomSampler", "Sampler", "SequentialSampler", "StackDataset",
           "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
           "WorkerInfo", "default_collate", "default_convert", "get_worker_info", "random_split"]
