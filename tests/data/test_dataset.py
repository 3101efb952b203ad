import numpy as np
import pytest

from deepnum.data.dataset import Dataset, Subset, TensorDataset, as_arrays
from deepnum.errors import DataError


def test_tensor_dataset_rows():
    ds = TensorDataset(np.arange(10.0).reshape(5, 2), np.arange(5))
    assert len(ds) == 5
    x, y = ds[3]
    assert x.tolist() == [6.0, 7.0] and y == 3


def test_tensor_dataset_rejects_mismatched_lengths():
    # PyTorch's AssertionError, also a DataError (one line in the deepnum command)
    for error in (AssertionError, DataError):
        with pytest.raises(error, match=r"Size mismatch between tensors: shapes \(5, 2\), \(4,\)"):
            TensorDataset(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(IndexError, match="at least one"):
        TensorDataset()


def test_subsets_compose_to_rows_of_the_arrays():
    base = TensorDataset(np.arange(10) * 10)
    inner = Subset(base, [9, 7, 5, 3, 1])
    outer = Subset(inner, [4, 0])
    assert outer[0][0] == 10 and outer[1][0] == 90
    arrays, index_map = as_arrays(outer)
    assert arrays[0] is base.arrays[0] and index_map.tolist() == [1, 9]
    outside = Subset(base, [10])  # checked when read, as PyTorch
    with pytest.raises(IndexError):
        outside[0]


def test_generic_dataset_has_no_fast_path():
    class Squares(Dataset):
        def __len__(self):
            return 4

        def __getitem__(self, i):
            return np.float32(i), i * i

    assert as_arrays(Squares()) is None
    assert as_arrays(Subset(Squares(), [1])) is None
    with pytest.raises(TypeError):  # a Dataset need not have a length, as PyTorch's
        len(Dataset())
    with pytest.raises(NotImplementedError, match="Subclasses of Dataset should implement"):
        Dataset()[0]
