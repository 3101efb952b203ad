import json

import numpy as np
import pytest

from deepnum.data.dataset import Dataset, Subset, TensorDataset
from deepnum.data.loader import DataLoader
from deepnum.errors import DataError
from deepnum.random import manual_seed

Tensor = pytest.importorskip("deepnum.tensor").Tensor


def make_dataset(n=103):
    x = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    return TensorDataset(x, np.arange(n, dtype=np.uint8))


class Pairs(Dataset):
    """A generic (slow-path) dataset with the same content as make_dataset()."""

    def __init__(self, n=103):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        return np.arange(3 * i, 3 * i + 3, dtype=np.float32), i


def epoch_order(loader):
    return np.concatenate([yb.data for _, yb in loader]).tolist()


@pytest.mark.parametrize("dataset", [make_dataset(), Pairs()], ids=["fast", "generic"])
def test_batches_are_tensors_and_cover_every_sample_once(dataset):
    loader = DataLoader(dataset, batch_size=10, shuffle=True, seed=0)
    assert len(loader) == 11
    batches = list(loader)
    assert len(batches) == 11 and all(isinstance(t, Tensor) for b in batches for t in b)
    xb, yb = batches[0]
    assert xb.data.dtype == np.float32 and xb.data.shape == (10, 3)
    # labels keep their dtype, as PyTorch's (uint8 here); Python int labels collate to int64
    assert yb.data.dtype == (np.uint8 if isinstance(dataset, TensorDataset) else np.int64)
    assert sorted(epoch_order(loader)) == list(range(103))
    np.testing.assert_array_equal(xb.numpy()[:, 0], yb.numpy().astype(np.int64) * 3)  # paired


def test_fast_and_generic_paths_agree():
    fast = DataLoader(make_dataset(), batch_size=16, shuffle=True, seed=5)
    slow = DataLoader(Pairs(), batch_size=16, shuffle=True, seed=5)
    for (xa, ya), (xb, yb) in zip(fast, slow):
        np.testing.assert_array_equal(xa.data, xb.data)
        np.testing.assert_array_equal(ya.data, yb.data)


def test_no_shuffle_keeps_order_and_last_batch_is_partial():
    loader = DataLoader(make_dataset(), batch_size=25)
    assert epoch_order(loader) == list(range(103))
    assert [len(y.data) for _, y in loader] == [25, 25, 25, 25, 3]


def test_drop_last():
    loader = DataLoader(make_dataset(), batch_size=25, shuffle=True, drop_last=True, seed=0)
    assert len(loader) == 4
    sizes = [len(y.data) for _, y in loader]
    assert sizes == [25] * 4
    assert len(DataLoader(make_dataset(), batch_size=200, drop_last=True)) == 0
    assert list(DataLoader(make_dataset(), batch_size=200, drop_last=True)) == []


def test_reshuffles_every_epoch_and_same_seed_same_order():
    a = DataLoader(make_dataset(), batch_size=10, shuffle=True, seed=1)
    b = DataLoader(make_dataset(), batch_size=10, shuffle=True, seed=1)
    a1, a2 = epoch_order(a), epoch_order(a)
    assert a1 != a2 and a1 == epoch_order(b) and a2 == epoch_order(b)
    assert a.epochs_started == 2


def test_seed_none_draws_each_epoch_from_the_global_generator():
    # PyTorch's rule: without a generator, each epoch's order comes from the global stream
    loader = DataLoader(make_dataset(), shuffle=True)
    manual_seed(3)
    first = epoch_order(loader)
    manual_seed(3)
    assert epoch_order(loader) == first
    assert epoch_order(loader) != first  # the global stream moved on
    assert loader.state_dict()["generator"] is None


def test_state_dict_round_trip_resumes_the_same_shuffles():
    original = DataLoader(make_dataset(), batch_size=8, shuffle=True, seed=11)
    epoch_order(original)
    state = json.loads(json.dumps(original.state_dict()))  # survives a JSON checkpoint
    expected = [epoch_order(original) for _ in range(2)]

    resumed = DataLoader(make_dataset(), batch_size=8, shuffle=True, seed=999)
    resumed.load_state_dict(state)
    assert resumed.epochs_started == 1
    assert [epoch_order(resumed) for _ in range(2)] == expected
    with pytest.raises(DataError, match="not a loader state"):
        resumed.load_state_dict({"epochs": 3})


def test_subset_keeps_the_fast_path_and_its_content():
    ds = make_dataset()
    subset = Subset(ds, np.arange(0, 103, 2))
    labels = epoch_order(DataLoader(subset, batch_size=7, shuffle=True, seed=0))
    assert sorted(labels) == list(range(0, 103, 2))


def test_bad_batch_size():
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match=f"batch_size should be a positive integer value, "
                                             f"but got batch_size={bad}"):
            DataLoader(make_dataset(), batch_size=bad)
