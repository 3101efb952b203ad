"""Datasets, PyTorch's interface: one implementation, in :mod:`deepnum.utils.data` (PyTorch's
path); this module keeps the names deepnum.data has always had.

>>> from deepnum.data import TensorDataset
>>> ds = TensorDataset(np.zeros((100, 2), np.float32), np.arange(100))
"""

from deepnum.utils.data.dataset import (  # noqa: F401 - re-exported
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    as_arrays,
    as_numpy,
)
