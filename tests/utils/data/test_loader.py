"""DataLoader (one process) against torch's: the same batches element for element wherever the
order is deterministic (every kind of sample, batch sizes, drop_last, batch_size=None, samplers,
batch samplers, collate_fn, iterable datasets), the semantics of shuffling, lengths, and the
errors PyTorch raises for bad options."""

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import deepnum as dn
from deepnum.utils import data
from tests.utils.data.common import SAMPLE_KINDS, both, plain


def _epochs(ours, theirs):
    return [plain(b) for b in ours], [plain(b) for b in theirs]


@pytest.mark.parametrize("kind", SAMPLE_KINDS)
@pytest.mark.parametrize("batch_size, drop_last", [(1, False), (4, False), (4, True),
                                                   (11, True), (20, False), (None, False)])
def test_batches_match_torch(kind, batch_size, drop_last):
    ours, theirs = both(kind)
    got, expected = _epochs(data.DataLoader(ours, batch_size=batch_size, drop_last=drop_last),
                            tdata.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last))
    assert got == expected
    assert len(data.DataLoader(ours, batch_size=batch_size, drop_last=drop_last)) == \
        len(tdata.DataLoader(theirs, batch_size=batch_size, drop_last=drop_last))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint8, np.int32])
def test_tensor_dataset_fast_path_matches_torch(dtype):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((23, 2, 3)) * 10).astype(dtype)
    y = rng.integers(0, 5, 23).astype(dtype)
    ours = data.TensorDataset(x, y)
    theirs = tdata.TensorDataset(torch.tensor(x), torch.tensor(y))
    order = list(rng.permutation(23))
    for kwargs in (dict(batch_size=5), dict(batch_size=5, drop_last=True), dict(sampler=order),
                   dict(batch_size=4, sampler=order), dict(batch_sampler=[[3, 1], [0], [22, 5]]),
                   dict(batch_size=None, sampler=order[:4])):
        got, expected = _epochs(data.DataLoader(ours, **kwargs),
                                tdata.DataLoader(theirs, **kwargs))
        assert got == expected, kwargs
    split = data.Subset(data.Subset(ours, order[:15]), list(range(14, -1, -1)))
    ref = tdata.Subset(tdata.Subset(theirs, order[:15]), list(range(14, -1, -1)))
    got, expected = _epochs(data.DataLoader(split, batch_size=4),
                            tdata.DataLoader(ref, batch_size=4))
    assert got == expected  # subsets of subsets: still fancy indexing, the same batches


def test_the_fast_path_gives_what_collating_sample_by_sample_gives():
    x = np.arange(60, dtype=np.float32).reshape(20, 3)
    ds = data.TensorDataset(x, np.arange(20) % 4)
    fast = data.DataLoader(ds, batch_size=6, shuffle=True, generator=dn.Generator().manual_seed(3))
    slow = data.DataLoader(ds, batch_size=6, shuffle=True, generator=dn.Generator().manual_seed(3),
                           collate_fn=lambda batch: data.default_collate(batch))
    for _ in range(2):
        assert [plain(b) for b in fast] == [plain(b) for b in slow]


def test_custom_collate_fn_and_batch_sampler_match_torch():
    ours, theirs = both("tuple of arrays")

    def collate(batch):
        return len(batch), [int(label) for _, label in batch]

    got, expected = _epochs(data.DataLoader(ours, batch_size=3, collate_fn=collate),
                            tdata.DataLoader(theirs, batch_size=3, collate_fn=collate))
    assert got == expected
    batches = data.BatchSampler(data.SequentialSampler(ours), 4, True)
    reference = tdata.BatchSampler(tdata.SequentialSampler(theirs), 4, True)
    got, expected = _epochs(data.DataLoader(ours, batch_sampler=batches),
                            tdata.DataLoader(theirs, batch_sampler=reference))
    assert got == expected and len(got) == 2


class Stream(data.IterableDataset):
    def __init__(self, n, lib):
        self.n, self.lib = n, lib

    def __iter__(self):
        info = (data if self.lib is data else tdata).get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        for i in range(start, self.n, step):
            yield np.float32(i), {"id": i}

    def __len__(self):
        return self.n


class TorchStream(tdata.IterableDataset):
    def __init__(self, n):
        self.inner = Stream(n, tdata)

    def __iter__(self):
        return iter(self.inner)

    def __len__(self):
        return self.inner.n


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (None, False)])
def test_iterable_datasets_match_torch(batch_size, drop_last):
    got, expected = _epochs(
        data.DataLoader(Stream(10, data), batch_size=batch_size, drop_last=drop_last),
        tdata.DataLoader(TorchStream(10), batch_size=batch_size, drop_last=drop_last))
    assert got == expected
    assert len(data.DataLoader(Stream(10, data), batch_size=batch_size, drop_last=drop_last)) \
        == len(tdata.DataLoader(TorchStream(10), batch_size=batch_size, drop_last=drop_last))


def test_shuffle_semantics():
    ds = data.TensorDataset(dn.arange(40))
    loader = data.DataLoader(ds, batch_size=8, shuffle=True,
                             generator=dn.Generator().manual_seed(0))
    epochs = [[i for (b,) in loader for i in b.tolist()] for _ in range(3)]
    assert all(sorted(e) == list(range(40)) for e in epochs)  # each a permutation
    assert len({tuple(e) for e in epochs}) == 3  # reshuffled every epoch
    twin = data.DataLoader(ds, batch_size=8, shuffle=True, generator=dn.Generator().manual_seed(0))
    assert [[i for (b,) in twin for i in b.tolist()] for _ in range(3)] == epochs
    seeded = data.DataLoader(ds, batch_size=8, shuffle=True, seed=0)  # deepnum's shorthand
    assert [i for (b,) in seeded for i in b.tolist()] == epochs[0]
    dn.manual_seed(4)
    free = [i for (b,) in data.DataLoader(ds, batch_size=8, shuffle=True) for i in b.tolist()]
    dn.manual_seed(4)
    assert [i for (b,) in data.DataLoader(ds, batch_size=8, shuffle=True)
            for i in b.tolist()] == free
    unshuffled = data.DataLoader(ds, batch_size=8)
    state = dn.get_rng_state()
    list(unshuffled)
    assert dn.get_rng_state() != state  # one draw per epoch (the workers' seed), as torch


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_workers=-1), "num_workers option should be non-negative"),
    (dict(timeout=-1), "timeout option should be non-negative"),
    (dict(prefetch_factor=2), "prefetch_factor option could only be specified in multiproc"),
    (dict(num_workers=1, prefetch_factor=-1), "prefetch_factor option should be non-negative"),
    (dict(persistent_workers=True), "persistent_workers option needs num_workers > 0"),
    (dict(sampler=[0, 1], shuffle=True), "sampler option is mutually exclusive with shuffle"),
    (dict(batch_sampler=[[0]], batch_size=2), "batch_sampler option is mutually exclusive"),
    (dict(batch_sampler=[[0]], drop_last=True), "batch_sampler option is mutually exclusive"),
    (dict(batch_size=None, drop_last=True), "batch_size=None option disables auto-batching"),
    (dict(multiprocessing_context="fork"), "multiprocessing_context can only be used with"),
    (dict(num_workers=1, multiprocessing_context="teleport"),
     "multiprocessing_context option should specify a valid start method"),
    (dict(batch_size=0), "batch_size should be a positive integer value, but got batch_size=0"),
])
def test_bad_options_raise_as_torch(kwargs, message):
    ours, theirs = both("python numbers")
    for lib, ds in ((data, ours), (tdata, theirs)):
        with pytest.raises(ValueError, match=message):
            lib.DataLoader(ds, **kwargs)


def test_iterable_dataset_options_and_frozen_attributes_raise_as_torch():
    for lib, ds in ((data, Stream(4, data)), (tdata, TorchStream(4))):
        for kwargs, word in ((dict(shuffle=True), "shuffle"), (dict(sampler=[0]), "sampler"),
                             (dict(batch_sampler=[[0]]), "batch_sampler")):
            with pytest.raises(ValueError, match=f"DataLoader with IterableDataset: expected "
                                                 f"unspecified {word} option"):
                lib.DataLoader(ds, **kwargs)
        loader = lib.DataLoader(ds, batch_size=2)
        for name in ("batch_size", "sampler", "dataset", "drop_last"):
            with pytest.raises(ValueError, match=f"{name} attribute should not be set after "
                                                 f"DataLoader is initialized"):
                setattr(loader, name, None)
    with pytest.raises(ValueError, match="give seed or generator, not both"):
        data.DataLoader(Stream(4, data), seed=1, generator=dn.Generator())


def test_pin_memory_is_accepted_and_warns_like_torch():
    ours, theirs = both("python numbers")
    for lib, ds in ((data, ours), (tdata, theirs)):
        with pytest.warns(UserWarning, match="'pin_memory' argument is set as true but no "
                                             "accelerator is found"):
            batches = list(lib.DataLoader(ds, batch_size=4, pin_memory=True,
                                          pin_memory_device=""))
        assert len(batches) == 3


def test_the_loader_state_resumes_the_shuffles():
    ds = data.TensorDataset(dn.arange(30))
    loader = data.DataLoader(ds, batch_size=7, shuffle=True, seed=11)
    list(loader)
    state = loader.state_dict()
    expected = [[b.tolist() for (b,) in loader] for _ in range(2)]
    resumed = data.DataLoader(ds, batch_size=7, shuffle=True, seed=999)
    resumed.load_state_dict(state)
    assert resumed.epochs_started == 1
    assert [[b.tolist() for (b,) in resumed] for _ in range(2)] == expected
    with pytest.raises(dn.DataError, match="do not shuffle the same way"):
        data.DataLoader(ds, shuffle=True).load_state_dict(state)
    with pytest.raises(dn.DataError, match="not a loader state"):
        resumed.load_state_dict({"epochs_started": -1, "generator": None})


def test_deepnum_data_has_the_same_loader():
    import deepnum.data

    assert deepnum.data.DataLoader is data.DataLoader
    assert deepnum.data.TensorDataset is data.TensorDataset
    assert deepnum.data.random_split is data.random_split
    assert deepnum.data.Subset is data.Subset and deepnum.data.Dataset is data.Dataset
