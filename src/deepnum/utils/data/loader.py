"""DataLoader: iterate over a dataset in batches, in this process or in worker processes, with
PyTorch's arguments, checks and semantics (``torch.utils.data.DataLoader``).

Each ``iter()`` is one epoch; with ``shuffle=True`` it draws a fresh order from ``generator`` (or
deepnum's global generator when there is none, as PyTorch). deepnum adds ``seed=`` (a generator
of the loader's own, seeded) and :meth:`DataLoader.state_dict` / :meth:`DataLoader.load_state_dict`,
with which the Trainer resumes a run with exactly the original shuffles. A TensorDataset is cut
into batches by fancy indexing whole arrays (see fetch.py), not sample by sample.

>>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, num_workers=2)
>>> for xb, yb in loader: ...
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import os
import queue
import warnings
import weakref

from deepnum.errors import DataError
from deepnum.utils.data import worker as _worker
from deepnum.utils.data.collate import default_collate, default_convert
from deepnum.utils.data.dataset import IterableDataset
from deepnum.utils.data.fetch import make_fetcher
from deepnum.utils.data.sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

_FROZEN = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")


class _InfiniteConstantSampler(Sampler):
    """What an IterableDataset is "sampled" with: None forever (the fetcher reads the stream)."""

    def __iter__(self):
        while True:
            yield None


class DataLoader:
    """Batches of ``dataset``: PyTorch's DataLoader (every argument, in its order), plus
    ``seed`` (deepnum: shuffle with a generator of the loader's own, seeded so).

    ``num_workers > 0`` reads in that many worker processes (each seeded, ``worker_init_fn``
    called; ``persistent_workers`` keeps them between epochs; ``prefetch_factor`` batches in
    flight per worker; ``timeout`` seconds to wait for one). ``pin_memory`` has no effect: there
    is no GPU memory to pin for.

    >>> loader = DataLoader(dataset, batch_size=32, shuffle=True, drop_last=True)
    >>> len(loader)   # len(dataset) // 32 batches
    """

    _initialized = False

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler=None, batch_sampler=None, num_workers: int = 0, collate_fn=None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor: int | None = None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True, seed: int | None = None):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to "
                             "disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        elif prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if seed is not None:
            if generator is not None:
                raise ValueError("DataLoader: give seed or generator, not both")
            from deepnum.random import Generator

            generator = Generator().manual_seed(seed)
        self.dataset, self.num_workers, self.prefetch_factor = dataset, num_workers, \
            prefetch_factor
        self.pin_memory, self.pin_memory_device, self.timeout = pin_memory, pin_memory_device, \
            timeout
        self.worker_init_fn, self.in_order = worker_init_fn, in_order
        self.multiprocessing_context = multiprocessing_context
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle "
                                 f"option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler "
                                 f"option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified "
                                 f"batch_sampler option, but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                                 "shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually "
                             "exclusive with drop_last")
        if sampler is None:
            sampler = _InfiniteConstantSampler() if self._iterable else \
                RandomSampler(dataset, generator=generator) if shuffle else \
                SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.batch_size, self.drop_last = batch_size, drop_last
        self.sampler, self.batch_sampler, self.generator = sampler, batch_sampler, generator
        self.shuffle, self.seed = shuffle, seed
        if collate_fn is None:
            collate_fn = default_collate if batch_sampler is not None else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._iterator = None
        self.epochs_started = 0  # for state_dict: the epochs begun, resumed from a checkpoint
        self._initialized = True
        self._check_worker_number()

    # ----------------------------------------------------------------- PyTorch's rules
    def __setattr__(self, name, value):
        if self._initialized and name in _FROZEN:
            raise ValueError(f"{name} attribute should not be set after {type(self).__name__} "
                             f"is initialized")
        super().__setattr__(name, value)

    @property
    def multiprocessing_context(self):
        return self._context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context):
        if context is not None:
            if self.num_workers == 0:
                raise ValueError(f"multiprocessing_context can only be used with multi-process "
                                 f"loading (num_workers > 0), but got "
                                 f"num_workers={self.num_workers}")
            if isinstance(context, str):
                methods = multiprocessing.get_all_start_methods()
                if context not in methods:
                    raise ValueError(f"multiprocessing_context option should specify a valid "
                                     f"start method in {methods!r}, but got "
                                     f"multiprocessing_context={context!r}")
                context = multiprocessing.get_context(context)
            if not isinstance(context, multiprocessing.context.BaseContext):
                raise TypeError(f"multiprocessing_context option should be a valid context "
                                f"object or a string specifying the start method, but got "
                                f"multiprocessing_context={context}")
        object.__setattr__(self, "_context", context)

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._iterable:  # what the dataset says, in batches
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else \
                    math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def _check_worker_number(self) -> None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
            os.cpu_count()
        if self.num_workers and (cpus is None or self.num_workers > cpus):
            warnings.warn(f"This DataLoader will create {self.num_workers} worker processes in "
                          f"total. Our suggested max number of worker in current system is "
                          f"{cpus}, which is smaller than what this DataLoader is going to "
                          f"create. Please be aware that excessive worker creation might get "
                          f"DataLoader running slow or even freeze, lower the worker number to "
                          f"avoid potential slowness/freeze if necessary.", stacklevel=3)

    # ----------------------------------------------------------------- iteration
    def __iter__(self):
        """Start an epoch."""
        object.__setattr__(self, "epochs_started", self.epochs_started + 1)
        if self.pin_memory:
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, "
                          "then device pinned memory won't be used.", stacklevel=2)
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if self.persistent_workers:
            if self._iterator is None:
                object.__setattr__(self, "_iterator", _MultiProcessIter(self))
            else:
                self._iterator.reset(self)
            return self._iterator
        return _MultiProcessIter(self)

    def _batches_of_indices(self):
        """The epoch's batches of indices: slices of one array when the batch sampler allows
        (deepnum's own samplers), else what the index sampler yields."""
        sampler = self._index_sampler
        if type(sampler) is BatchSampler and sampler._fast():
            return sampler._index_arrays()
        return iter(sampler)

    # ----------------------------------------------------------------- state (deepnum)
    def state_dict(self) -> dict:
        """The shuffling generator's state (None when shuffles come from deepnum's global
        generator, which the Trainer saves itself) and the epochs started; JSON-serialisable."""
        return {"seed": self.seed, "epochs_started": self.epochs_started,
                "generator": None if self.generator is None else self.generator.get_state()}

    def load_state_dict(self, state: dict) -> None:
        """Resume from :meth:`state_dict`: the next ``iter()`` repeats the original next epoch."""
        try:
            epochs, saved = int(state["epochs_started"]), state.get("generator")
            if epochs < 0:
                raise ValueError(f"epochs_started is {epochs}")
            if (saved is None) != (self.generator is None):
                raise ValueError("the saved loader and this one do not shuffle the same way "
                                 "(one has a generator of its own, the other uses the global "
                                 "one)")
            if saved is not None:
                self.generator.set_state(saved)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise DataError(f"DataLoader.load_state_dict: not a loader state ({error})") \
                from error
        object.__setattr__(self, "epochs_started", epochs)
        object.__setattr__(self, "seed", state.get("seed", self.seed))

    def __repr__(self) -> str:
        size = len(self.dataset) if hasattr(self.dataset, "__len__") else "?"
        return (f"DataLoader({type(self.dataset).__name__} of {size}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, num_workers={self.num_workers})")


def _base_seed(loader) -> int:
    """The workers' base seed, drawn at the start of each epoch from the loader's generator (or
    the global one) also without workers, as PyTorch does: the shuffles then do not depend on
    ``num_workers``."""
    from deepnum.random import rng_of

    return int(rng_of(loader.generator).integers(2**63))


class _SingleProcessIter:
    def __init__(self, loader: DataLoader):
        _base_seed(loader)
        self._indices = loader._batches_of_indices()
        self._fetcher = make_fetcher(loader._iterable, loader.dataset, loader._auto_collation,
                                     loader.collate_fn, loader.drop_last)
        self._loader = loader

    def __iter__(self):
        return self

    def __next__(self):
        return self._fetcher.fetch(next(self._indices))

    def __len__(self) -> int:
        return len(self._loader)


class _MultiProcessIter:
    """Batches read by worker processes, returned in order (``in_order=False``: as they come)."""

    def __init__(self, loader: DataLoader):
        self._loader, self._timeout = loader, loader.timeout
        self._workers_n, self._prefetch = loader.num_workers, loader.prefetch_factor
        self._persistent, self._in_order = loader.persistent_workers, loader.in_order
        self._iterable = loader._iterable
        context = loader.multiprocessing_context or multiprocessing.get_context()
        base_seed = _base_seed(loader)
        self._results = context.Queue()
        self._done = context.Event()
        self._queues, self._workers = [], []
        for i in range(self._workers_n):
            tasks = context.Queue()
            tasks.cancel_join_thread()
            process = context.Process(target=_worker.worker_loop, daemon=True, args=(
                self._iterable, loader.dataset, tasks, self._results, self._done,
                loader._auto_collation, loader.collate_fn, loader.drop_last, base_seed,
                loader.worker_init_fn, i, self._workers_n))
            process.start()
            self._queues.append(tasks)
            self._workers.append(process)
        self._finalizer = weakref.finalize(self, _stop_workers, self._done, self._queues,
                                           self._workers)
        self.reset(loader, first=True)

    def reset(self, loader, first: bool = False) -> None:
        self._indices = loader._batches_of_indices()
        self._sent = self._received = 0
        self._tasks: dict[int, tuple] = {}  # task index -> (worker,) or (worker, data)
        self._outstanding = 0
        self._active = [True] * self._workers_n
        self._per_worker = [0] * self._workers_n
        self._cycle = itertools.cycle(range(self._workers_n))
        if not first:  # persistent workers: each re-creates its fetcher, then acknowledges
            for tasks in self._queues:
                tasks.put(_worker.ResumeIteration())
            waiting = self._workers_n
            while waiting:
                idx, _ = self._get()
                waiting -= isinstance(idx, _worker.ResumeIteration)
        for _ in range(self._prefetch * self._workers_n):
            self._put()

    def __iter__(self):
        return self

    def __len__(self) -> int:
        return len(self._loader)

    def _get(self):
        """The next (task index, data) from any worker, checking that the workers live."""
        while True:
            try:
                return self._results.get(timeout=self._timeout or _worker.STATUS_CHECK_INTERVAL)
            except queue.Empty:
                dead = [w for i, w in enumerate(self._workers)
                        if self._active[i] and not w.is_alive()]
                if dead:
                    self.shutdown()
                    pids = ", ".join(str(w.pid) for w in dead)
                    raise RuntimeError(f"DataLoader worker (pid(s) {pids}) exited "
                                       f"unexpectedly") from None
                if self._timeout:
                    self.shutdown()
                    raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds") \
                        from None

    def _put(self) -> None:
        """Send the next batch of indices to the next worker that is still reading."""
        try:
            index = next(self._indices)
        except StopIteration:
            return
        limit = self._prefetch * self._workers_n
        for _ in range(self._workers_n):
            w = next(self._cycle)
            if self._active[w] and (self._in_order or
                                    self._per_worker[w] < limit // sum(self._active)):
                break
        else:
            return
        self._queues[w].put((self._sent, index))
        self._tasks[self._sent] = (w,)
        self._per_worker[w] += 1
        self._outstanding += 1
        self._sent += 1

    def __next__(self):
        while True:
            while self._received < self._sent:  # skip tasks of workers that have finished
                info = self._tasks.get(self._received)
                if info and (len(info) == 2 or self._active[info[0]]):
                    break
                self._tasks.pop(self._received, None)
                self._received += 1
            else:
                if not self._persistent:
                    self.shutdown()
                raise StopIteration
            if len(self._tasks[self._received]) == 2:  # arrived earlier, out of order
                w, data = self._tasks.pop(self._received)
                self._received += 1
                return self._process(data, w)
            idx, data = self._get()
            self._outstanding -= 1
            if isinstance(data, _worker.IterableDatasetStopIteration):
                self._active[data.worker_id] = False
                if not self._persistent:
                    self._queues[data.worker_id].put(None)
                self._put()
                continue
            if idx != self._received:
                if not self._in_order:
                    w = self._tasks.pop(idx)[0]
                    return self._process(data, w)
                self._tasks[idx] += (data,)
                continue
            w = self._tasks.pop(idx)[0]
            self._received += 1
            return self._process(data, w)

    def _process(self, data, w: int):
        self._per_worker[w] -= 1
        self._put()
        if isinstance(data, _worker.ExceptionWrapper):
            if not self._persistent:  # the epoch ends here: no workers left waiting for work
                self.shutdown()  # (an exception's traceback can keep this iterator alive)
            data.reraise()
        return data

    def shutdown(self) -> None:
        """Stop the workers (and wait a little for them to go)."""
        self._finalizer()


def _stop_workers(done, queues, workers) -> None:
    """Tell the workers to stop, wait for them, terminate any that do not. A finalizer of the
    iterator: it runs before the garbage collector closes the queues' pipes (a __del__ would
    come too late for the stop messages to get through), and at exit."""
    done.set()
    for tasks in queues:
        try:
            tasks.put(None)
        except (OSError, ValueError):  # already closed
            pass
    for w in workers:
        w.join(timeout=_worker.STATUS_CHECK_INTERVAL)
    for tasks in queues:
        tasks.cancel_join_thread()
        tasks.close()
    for w in workers:
        if w.is_alive():
            w.terminate()
            w.join(timeout=_worker.STATUS_CHECK_INTERVAL)
