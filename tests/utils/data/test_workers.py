"""DataLoader(num_workers=N): the batches really come from worker processes, are the same as
without workers (and as torch's with workers), in order; workers are seeded, initialised,
kept between epochs when persistent, and their errors, deaths and delays reach the main
process as PyTorch reports them."""

import os
import time

import numpy as np
import pytest
import torch.utils.data as tdata

import deepnum as dn
from deepnum.utils import data
from deepnum.utils.data import worker as worker_module
from tests.utils.data.common import both, plain

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # fork with threads


class WhoReads(data.Dataset):
    """Sample i: (i, the reading process's pid, the worker's id and seed, a deepnum draw)."""

    def __len__(self):
        return 12

    def __getitem__(self, i):
        info = data.get_worker_info()
        return {"i": i, "pid": os.getpid(), "worker": -1 if info is None else info.id,
                "seed": -1 if info is None else info.seed,
                "draw": float(dn.rand(1).item())}


def _values(loader, key):
    return [v for batch in loader for v in batch[key].tolist()]


def test_batches_come_from_worker_processes_in_order():
    loader = data.DataLoader(WhoReads(), batch_size=3, num_workers=2)
    batches = list(loader)
    assert [b["i"].tolist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11]]
    pids = {p for b in batches for p in b["pid"].tolist()}
    assert os.getpid() not in pids and len(pids) == 2
    assert [b["worker"].tolist()[0] for b in batches] == [0, 1, 0, 1]  # round robin, as torch


@pytest.mark.parametrize("kind", ["tuple of arrays", "dict", "named tuple", "strings"])
def test_the_same_batches_as_without_workers_and_as_torch_with_workers(kind):
    ours, theirs = both(kind, n=13)
    expected = [plain(b) for b in tdata.DataLoader(theirs, batch_size=3, num_workers=2)]
    assert [plain(b) for b in data.DataLoader(ours, batch_size=3, num_workers=2)] == expected
    assert [plain(b) for b in data.DataLoader(ours, batch_size=3)] == expected


def test_shuffled_batches_do_not_depend_on_num_workers():
    ds = data.TensorDataset(np.arange(50, dtype=np.float32), np.arange(50))
    orders = []
    for workers in (0, 1, 2):
        loader = data.DataLoader(ds, batch_size=8, shuffle=True, num_workers=workers,
                                 generator=dn.Generator().manual_seed(5))
        orders.append([[plain(b) for b in loader] for _ in range(2)])
    assert orders[0] == orders[1] == orders[2]


def test_workers_are_seeded_and_initialised():
    calls = []

    def init(worker_id):
        calls.append(worker_id)  # runs in the worker: the parent's list stays empty
        info = data.get_worker_info()
        assert info.id == worker_id and info.num_workers == 2 and info.dataset is not None

    def run():
        loader = data.DataLoader(WhoReads(), batch_size=2, num_workers=2, worker_init_fn=init,
                                 generator=dn.Generator().manual_seed(3))
        return [b for b in loader]

    first, again = run(), run()
    assert calls == []
    seeds = {w: s for b in first for w, s in zip(b["worker"].tolist(), b["seed"].tolist())}
    assert seeds[1] == seeds[0] + 1  # base_seed + worker_id
    draws = [d for b in first for d in b["draw"].tolist()]
    assert draws == [d for b in again for d in b["draw"].tolist()]  # reproducible
    assert len(set(draws)) == len(draws)  # and different in each worker
    other = data.DataLoader(WhoReads(), batch_size=2, num_workers=2,
                            generator=dn.Generator().manual_seed(4))
    assert _values(other, "draw") != draws


def test_persistent_workers_stay_between_epochs():
    persistent = data.DataLoader(WhoReads(), batch_size=4, num_workers=2, persistent_workers=True)
    epochs = [set(_values(persistent, "pid")) for _ in range(3)]
    assert epochs[0] == epochs[1] == epochs[2] and len(epochs[0]) == 2
    assert _values(persistent, "i") == list(range(12))
    fresh = data.DataLoader(WhoReads(), batch_size=4, num_workers=2)
    assert set(_values(fresh, "pid")) != set(_values(fresh, "pid"))  # new workers each epoch
    half = iter(persistent)
    next(half)  # an epoch left half read: the next one still starts from the beginning
    assert _values(persistent, "i") == list(range(12))


class Shards(data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = data.get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


class TorchShards(tdata.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = tdata.get_worker_info()
        start, step = (0, 1) if info is None else (info.id, info.num_workers)
        return iter(range(start, self.n, step))


@pytest.mark.parametrize("persistent", [False, True])
def test_iterable_datasets_split_between_workers_as_torch(persistent):
    kwargs = dict(batch_size=3, num_workers=2, persistent_workers=persistent)
    expected = [plain(b) for b in tdata.DataLoader(TorchShards(14), **kwargs)]
    loader = data.DataLoader(Shards(14), **kwargs)
    for _ in range(2):  # persistent workers restart their streams each epoch
        assert [plain(b) for b in loader] == expected


def test_out_of_order_and_prefetch_options():
    class Slow(data.Dataset):
        def __len__(self):
            return 8

        def __getitem__(self, i):
            time.sleep(0.05 if i < 2 else 0)  # the first batch is the slowest
            return i

    got = [b.tolist() for b in data.DataLoader(Slow(), batch_size=2, num_workers=2,
                                               in_order=False, prefetch_factor=1)]
    assert sorted(x for b in got for x in b) == list(range(8)) and len(got) == 4


class Failing(data.Dataset):
    def __init__(self, error):
        self.error = error

    def __len__(self):
        return 4

    def __getitem__(self, i):
        if i == 2:
            raise self.error
        return i


class TorchFailing(tdata.Dataset):
    def __init__(self, error):
        self.inner = Failing(error)

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return self.inner[i]


@pytest.mark.parametrize("error", [ValueError("bad sample 2"), KeyError("missing"),
                                   ZeroDivisionError("div")], ids=str)
def test_a_worker_error_is_raised_in_the_main_process_like_torch(error):
    loader = data.DataLoader(Failing(error), batch_size=1, num_workers=2)
    with pytest.raises(type(error)) as got:
        list(loader)
    reference = iter(tdata.DataLoader(TorchFailing(error), batch_size=1, num_workers=2))
    with pytest.raises(type(error)) as expected:
        list(reference)
    reference._shutdown_workers()  # else torch's workers linger 10 s when collected
    first = str(expected.value).splitlines()[0]
    assert str(got.value).splitlines()[0] == first  # "Caught ValueError in DataLoader worker..."
    assert "Traceback" in str(got.value) and "__getitem__" in str(got.value)


def test_a_timeout_and_a_dead_worker_are_reported(monkeypatch):
    class Stuck(data.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            time.sleep(1)
            return i

    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.2 seconds"):
        list(data.DataLoader(Stuck(), num_workers=1, timeout=0.2))

    class Dies(data.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            os._exit(3)

    monkeypatch.setattr(worker_module, "STATUS_CHECK_INTERVAL", 0.2)
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid\(s\) \d+\) exited "
                                           r"unexpectedly"):
        list(data.DataLoader(Dies(), num_workers=1))


def test_a_worker_init_error_reaches_the_main_process():
    def broken(worker_id):
        raise RuntimeError("cannot open the shard")

    with pytest.raises(RuntimeError, match="Caught RuntimeError in DataLoader worker process 0"):
        list(data.DataLoader(WhoReads(), num_workers=1, worker_init_fn=broken))


class Picklable(data.Dataset):
    def __len__(self):
        return 5

    def __getitem__(self, i):
        return np.float32(i), os.getpid()


def test_a_spawn_context_works_with_a_picklable_dataset():
    loader = data.DataLoader(Picklable(), batch_size=2, num_workers=1,
                             multiprocessing_context="spawn")
    batches = list(loader)
    assert [b[0].tolist() for b in batches] == [[0.0, 1.0], [2.0, 3.0], [4.0]]
    assert os.getpid() not in {p for b in batches for p in b[1].tolist()}


def test_the_trainer_trains_from_a_loader_with_workers():
    from deepnum.train import Trainer

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 2)).astype(np.float32)
    y = (x.sum(1) > 0).astype(np.int64)
    loader = data.DataLoader(data.TensorDataset(x, y), batch_size=16, shuffle=True,
                             num_workers=2, persistent_workers=True)
    dn.manual_seed(0)
    model = dn.nn.Sequential(dn.nn.Linear(2, 8), dn.nn.Tanh(), dn.nn.Linear(8, 2))
    history = Trainer(model, optimizer="adam", lr=0.05).fit(loader, epochs=5, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
