"""Samplers against torch.utils.data's: deterministic ones element for element; random ones by
their semantics (a permutation per epoch, reproducible from a generator, frequencies that follow
the weights), their lengths and their errors."""

from collections import Counter

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import deepnum as dn
from deepnum.utils import data


@pytest.mark.parametrize("size, batch, drop_last", [(10, 3, False), (10, 3, True), (9, 3, True),
                                                    (2, 5, False), (2, 5, True), (0, 2, False)])
def test_sequential_and_batch_samplers_match_torch(size, batch, drop_last):
    ours = data.BatchSampler(data.SequentialSampler(range(size)), batch, drop_last)
    theirs = tdata.BatchSampler(tdata.SequentialSampler(range(size)), batch, drop_last)
    assert list(ours) == list(theirs) and len(ours) == len(theirs)
    assert list(data.SequentialSampler(range(size))) == list(range(size))
    # any iterable of indices works as the inner sampler, as in torch
    inner = [4, 2, 9, 9, 1]
    assert list(data.BatchSampler(inner, batch, drop_last)) == \
        list(tdata.BatchSampler(inner, batch, drop_last))


def test_random_sampler_draws_a_permutation_each_epoch():
    sampler = data.RandomSampler(range(50), generator=dn.Generator().manual_seed(0))
    first, second = list(sampler), list(sampler)
    assert sorted(first) == sorted(second) == list(range(50)) and first != second
    again = data.RandomSampler(range(50), generator=dn.Generator().manual_seed(0))
    assert [list(again), list(again)] == [first, second]  # reproducible from the generator
    assert all(isinstance(i, int) for i in first) and len(sampler) == 50
    dn.manual_seed(7)
    free = list(data.RandomSampler(range(50)))  # no generator: a seed from the global stream
    dn.manual_seed(7)
    assert list(data.RandomSampler(range(50))) == free


@pytest.mark.parametrize("replacement, num_samples", [(False, 120), (False, 30), (True, 70),
                                                      (True, None)])
def test_random_sampler_sizes_match_torch(replacement, num_samples):
    ours = data.RandomSampler(range(50), replacement, num_samples)
    theirs = tdata.RandomSampler(range(50), replacement, num_samples)
    got, expected = list(ours), list(theirs)
    assert len(got) == len(expected) == len(ours) == len(theirs)
    if not replacement:  # whole permutations, then part of one, as torch
        counts = Counter(got)
        assert max(counts.values()) - min(counts.values()) <= 1
        assert set(got[:50]) == set(range(50)) if len(got) >= 50 else len(set(got)) == len(got)
    assert all(0 <= i < 50 for i in got)


def test_subset_random_sampler():
    indices = [3, 8, 12, 40]
    sampler = data.SubsetRandomSampler(indices, generator=dn.Generator().manual_seed(1))
    orders = [tuple(sampler) for _ in range(20)]
    assert all(sorted(o) == indices for o in orders) and len(set(orders)) > 1
    assert len(sampler) == len(tdata.SubsetRandomSampler(indices)) == 4


def test_weighted_random_sampler_follows_the_weights():
    weights = [0.1, 0.0, 0.6, 0.3]
    ours = data.WeightedRandomSampler(weights, 20000, generator=dn.Generator().manual_seed(0))
    counts = np.bincount(list(ours), minlength=4) / 20000
    np.testing.assert_allclose(counts, weights, atol=0.015)
    without = list(data.WeightedRandomSampler(dn.tensor([1.0, 2.0, 3.0]), 3, replacement=False))
    assert sorted(without) == [0, 1, 2] and len(ours) == 20000


@pytest.mark.parametrize("make, error, message", [
    (lambda lib: lib.RandomSampler(range(3), replacement=1), TypeError,
     "replacement should be a boolean value, but got replacement=1"),
    (lambda lib: lib.RandomSampler(range(3), num_samples=0), ValueError,
     "num_samples should be a positive integer value, but got num_samples=0"),
    (lambda lib: lib.RandomSampler([], num_samples=None), ValueError, "num_samples=0"),
    (lambda lib: lib.WeightedRandomSampler([1.0], num_samples=1.5), ValueError,
     "num_samples should be a positive integer value"),
    (lambda lib: lib.WeightedRandomSampler([1.0], 2, replacement="no"), ValueError,
     "replacement should be a boolean value"),
    (lambda lib: lib.WeightedRandomSampler([[1.0]], 2), ValueError,
     r"weights should be a 1d sequence but given weights have shape \(1, 1\)"),
    (lambda lib: lib.BatchSampler(range(3), 0, False), ValueError,
     "batch_size should be a positive integer value, but got batch_size=0"),
    (lambda lib: lib.BatchSampler(range(3), True, False), ValueError, "batch_size=True"),
    (lambda lib: lib.BatchSampler(range(3), 2, 1), ValueError,
     "drop_last should be a boolean value, but got drop_last=1"),
])
def test_sampler_errors_match_torch(make, error, message):
    for lib in (data, tdata):
        with pytest.raises(error, match=message):
            make(lib)


@pytest.mark.parametrize("weights, replacement, num_samples", [
    ([1.0, 0.0], False, 2), ([-1.0, 2.0], True, 2), ([0.0, 0.0], True, 1),
    ([1.0, float("nan")], True, 1), ([1.0, 2.0], False, 3)], ids=str)
def test_weighted_sampler_draws_and_refuses_like_torch(weights, replacement, num_samples):
    try:
        expected = list(tdata.WeightedRandomSampler(weights, num_samples, replacement))
    except RuntimeError as error:
        with pytest.raises(RuntimeError, match=str(error).split("(")[0]):
            list(data.WeightedRandomSampler(weights, num_samples, replacement))
        data.WeightedRandomSampler(weights, num_samples, replacement)  # fine until drawn
    else:  # all positive weights first, then the zero-weight entries, as torch
        assert list(data.WeightedRandomSampler(weights, num_samples, replacement)) == expected


def test_a_subclass_that_changes_the_order_is_honoured():
    class Reversed(data.SequentialSampler):
        def __iter__(self):
            return iter(range(len(self.data_source) - 1, -1, -1))

    batches = data.BatchSampler(Reversed(range(5)), 2, False)
    assert list(batches) == [[4, 3], [2, 1], [0]]
    loader = data.DataLoader(data.TensorDataset(dn.arange(5)), batch_size=2,
                             sampler=Reversed(range(5)))
    assert [b[0].tolist() for b in loader] == [[4, 3], [2, 1], [0]]
    assert torch.utils.data.get_worker_info() is None and data.get_worker_info() is None


@pytest.mark.parametrize("size, world, drop_last", [(10, 3, False), (10, 3, True), (9, 3, False),
                                                    (2, 5, False), (7, 1, False)])
def test_distributed_sampler_shares_match_torch_unshuffled(size, world, drop_last):
    from deepnum.utils.data.distributed import DistributedSampler

    for rank in range(world):
        ours = DistributedSampler(range(size), world, rank, shuffle=False, drop_last=drop_last)
        theirs = tdata.DistributedSampler(range(size), world, rank, shuffle=False,
                                          drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        loader = data.DataLoader(data.TensorDataset(dn.arange(size)), batch_size=2,
                                 sampler=ours)
        assert [int(v) for (b,) in loader for v in b.tolist()] == list(theirs)


def test_distributed_sampler_shuffles_one_permutation_per_epoch_split_disjointly():
    shares = [data.DistributedSampler(range(11), 3, r, seed=5) for r in range(3)]
    for epoch in range(2):
        for s in shares:
            s.set_epoch(epoch)
        drawn = [list(s) for s in shares]
        assert all(len(d) == 4 for d in drawn)
        flat = [i for d in drawn for i in d]
        assert set(flat) == set(range(11)) and len(flat) == 12  # one index repeated as padding
        assert drawn == [list(s) for s in shares]  # the same epoch, the same order
    first = list(shares[0])
    shares[0].set_epoch(0)
    assert list(shares[0]) != first
    with pytest.raises(ValueError, match="Invalid rank 3"):
        data.DistributedSampler(range(4), 3, 3)
