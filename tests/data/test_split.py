import numpy as np
import pytest

from deepnum.data.dataset import TensorDataset
from deepnum.data.split import random_split, train_val_split
from deepnum.errors import DataError
from deepnum.random import get_rng


def test_stratified_split_keeps_class_proportions():
    y = np.repeat([0, 1, 2], [100, 50, 10])
    x = np.arange(len(y))
    x_tr, y_tr, x_val, y_val = train_val_split(x, y, 0.2, seed=0)
    assert np.bincount(y_val).tolist() == [20, 10, 2]
    assert sorted([*x_tr, *x_val]) == list(range(len(y)))  # a partition
    np.testing.assert_array_equal(y[x_val], y_val)  # rows stay paired
    assert not np.all(np.diff(y_val) >= 0)  # shuffled, not grouped by class


def test_split_is_fixed_by_seed_not_by_the_global_stream():
    x, y = np.arange(50), np.arange(50) % 2
    first = train_val_split(x, y, 0.3, seed=4)
    get_rng().random(10)
    again = train_val_split(x, y, 0.3, seed=4)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[2], train_val_split(x, y, 0.3, seed=5)[2])


def test_float_targets_are_split_uniformly():
    x = np.arange(10)
    _, _, x_val, y_val = train_val_split(x, x * 0.5, 0.3, seed=0, stratify=True)
    assert len(x_val) == 3


@pytest.mark.parametrize("fraction", [0, 1, 1.5])
def test_bad_fraction(fraction):
    with pytest.raises(DataError, match="val_fraction"):
        train_val_split(np.arange(10), np.arange(10), fraction)


def test_too_few_samples_and_length_mismatch():
    with pytest.raises(DataError, match="too few"):
        train_val_split(np.arange(2), np.array([0, 1]), 0.2)
    with pytest.raises(DataError, match="x has 3 samples but y has 2"):
        train_val_split(np.arange(3), np.arange(2))


def test_random_split_counts_and_fractions():
    ds = TensorDataset(np.arange(10))
    a, b = random_split(ds, [7, 3], seed=0)
    assert len(a) == 7 and len(b) == 3
    assert sorted([a[i][0] for i in range(7)] + [b[i][0] for i in range(3)]) == list(range(10))
    parts = random_split(ds, [0.5, 0.25, 0.25], seed=0)
    assert [len(p) for p in parts] == [6, 2, 2]  # floors 5, 2, 2; the remainder goes first
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length"):
        random_split(ds, [5, 6])
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length"):
        random_split(ds, [0.5, 0.6])
    again = random_split(ds, [7, 3], seed=0)
    assert [a[i][0].item() for i in range(7)] == [again[0][i][0].item() for i in range(7)]
