"""Datasets and random_split against torch.utils.data: the same samples, lengths, split sizes,
warnings and errors."""

import warnings

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import deepnum as dn
from deepnum.utils import data
from tests.utils.data.common import plain


def _tensors():
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    y = np.arange(10) % 3
    return (data.TensorDataset(dn.tensor(x), dn.tensor(y)),
            tdata.TensorDataset(torch.tensor(x), torch.tensor(y)))


def test_tensor_dataset_matches_torch():
    ours, theirs = _tensors()
    assert len(ours) == len(theirs)
    for i in (0, 3, -1, slice(2, 5), [1, 4]):
        assert plain(ours[i]) == plain(theirs[i]), i
    assert ours.tensors[0].shape == tuple(theirs.tensors[0].shape)
    x = dn.randn(4, 2)
    assert data.TensorDataset(x).tensors[0] is x  # the tensors themselves, as torch keeps them
    shared = np.zeros((3, 2))
    data.TensorDataset(shared).tensors[0].array[0, 0] = 5.0
    assert shared[0, 0] == 5.0  # arrays are wrapped, not copied
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        data.TensorDataset(dn.zeros(3), dn.zeros(4))
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        tdata.TensorDataset(torch.zeros(3), torch.zeros(4))


def test_subset_concat_stack_and_chain_match_torch():
    ours, theirs = _tensors()
    pairs = [(data.Subset(ours, [7, 2, 2, 9]), tdata.Subset(theirs, [7, 2, 2, 9])),
             (ours + ours, theirs + theirs),
             (data.ConcatDataset([ours, data.Subset(ours, [0, 1])]),
              tdata.ConcatDataset([theirs, tdata.Subset(theirs, [0, 1])])),
             (data.StackDataset(ours, ours), tdata.StackDataset(theirs, theirs)),
             (data.StackDataset(a=ours, b=ours), tdata.StackDataset(a=theirs, b=theirs))]
    for a, b in pairs:
        assert len(a) == len(b)
        for i in range(len(b)):
            assert plain(a[i]) == plain(b[i])
    cat = ours + ours
    assert cat.cumulative_sizes == (theirs + theirs).cumulative_sizes
    assert plain(cat[-1]) == plain((theirs + theirs)[-1])
    assert plain(data.Subset(ours, [7, 2])[[0, 1]]) == plain(tdata.Subset(theirs, [7, 2])[[0, 1]])
    for lib in (data, tdata):
        with pytest.raises(ValueError, match="absolute value of index should not exceed"):
            (lib.TensorDataset(*_tensors()[lib is tdata].tensors) + _tensors()[lib is tdata])[-21]
        with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
            lib.ConcatDataset([])
        with pytest.raises(ValueError, match="Size mismatch between datasets"):
            lib.StackDataset(range(3), range(4))


class Count(data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_iterable_and_chain_datasets():
    chained = Count(3) + Count(2)
    assert isinstance(chained, data.ChainDataset) and list(chained) == [0, 1, 2, 0, 1]
    assert len(chained) == 5
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        data.ConcatDataset([Count(2)])
    with pytest.raises(TypeError):
        data.IterableDataset()  # abstract, as torch's


def _warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught]


@pytest.mark.parametrize("lengths", [[7, 3], [0.5, 0.3, 0.2], [0.34, 0.33, 0.33], [1.0, 0.0],
                                     [10, 0], [1.0]], ids=str)
def test_random_split_sizes_and_warnings_match_torch(lengths):
    ours, theirs = _tensors()
    parts, said = _warnings(lambda: data.random_split(ours, lengths,
                                                      generator=dn.Generator().manual_seed(1)))
    ref, expected = _warnings(lambda: tdata.random_split(
        theirs, lengths, generator=torch.Generator().manual_seed(1)))
    assert said == expected  # e.g. "Length of split at index 1 is 0..."
    assert [len(p) for p in parts] == [len(p) for p in ref]
    assert sorted(i for p in parts for i in p.indices) == list(range(10))  # a partition
    assert all(isinstance(p, data.Subset) and isinstance(p.indices, list) for p in parts)


def test_random_split_generator_seed_and_errors():
    ours, theirs = _tensors()
    a = data.random_split(ours, [6, 4], generator=dn.Generator().manual_seed(5))
    b = data.random_split(ours, [6, 4], generator=dn.Generator().manual_seed(5))
    c = data.random_split(ours, [6, 4], seed=5)
    assert a[0].indices == b[0].indices == c[0].indices
    dn.manual_seed(2)
    d = data.random_split(ours, [6, 4])  # deepnum's global generator by default
    dn.manual_seed(2)
    assert data.random_split(ours, [6, 4])[0].indices == d[0].indices
    for lengths, message in [([5, 6], "Sum of input lengths does not equal"),
                             ([1.5, -0.5], "Fraction at index 0 is not between 0 and 1")]:
        for lib, ds in ((data, ours), (tdata, theirs)):
            with pytest.raises(ValueError, match=message):
                lib.random_split(ds, lengths)


def test_a_subset_keeps_the_fast_batching_path():
    ours, _ = _tensors()
    inner = data.Subset(ours, [9, 7, 5, 3, 1])
    arrays, index_map = data.dataset.as_arrays(data.Subset(inner, [4, 0]))
    assert arrays[0] is ours.tensors[0].array and index_map.tolist() == [1, 9]

    class Doubled(data.TensorDataset):
        def __getitem__(self, i):
            return tuple(2 * t for t in super().__getitem__(i))

    assert data.dataset.as_arrays(Doubled(dn.zeros(3))) is None  # its own way to read a sample
    assert data.dataset.as_arrays(data.Subset(Doubled(dn.zeros(3)), [0])) is None
