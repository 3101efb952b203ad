"""DataLoader worker processes: each reads the batches whose indices it is sent and puts them on
a shared queue (PyTorch's protocol, ``torch.utils.data._utils.worker``).

A worker seeds Python's ``random``, deepnum's generator (``base_seed + worker_id``) and NumPy's
legacy global one (a SeedSequence of both), then calls ``worker_init_fn(worker_id)``. An error
while reading is sent back and raised in the main process with the worker's traceback.
"""

from __future__ import annotations

import os
import queue
import random
import sys
import traceback
from dataclasses import dataclass

import numpy as np

STATUS_CHECK_INTERVAL = 5.0  # seconds between checks that the workers / the parent are alive


@dataclass(frozen=True)
class WorkerInfo:
    """What :func:`get_worker_info` returns inside a worker."""

    id: int
    num_workers: int
    seed: int
    dataset: object


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker: its id, the number of workers, its seed and its copy of the
    dataset (to split an IterableDataset's stream between workers); None in the main process.

    >>> info = get_worker_info()
    >>> start = 0 if info is None else info.id    # each worker takes every num_workers-th item
    """
    return _worker_info


@dataclass(frozen=True)
class IterableDatasetStopIteration:
    """A worker's iterable dataset is exhausted."""

    worker_id: int


@dataclass(frozen=True)
class ResumeIteration:
    """Start the next epoch (persistent workers): the worker re-creates its fetcher."""


class ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback."""

    def __init__(self, where: str):
        kind, value, _ = sys.exc_info()
        self.kind, self.where = kind, where
        self.text = "".join(traceback.format_exception(kind, value, value.__traceback__))

    def reraise(self):
        message = f"Caught {self.kind.__name__} {self.where}.\nOriginal {self.text}"
        if self.kind is KeyError:  # KeyError would show the message's repr, newlines escaped
            message = _KeyErrorMessage(message)
        try:
            error = self.kind(message)
        except Exception:  # an exception type whose constructor wants other arguments
            raise RuntimeError(message) from None
        raise error


class _KeyErrorMessage(str):
    def __repr__(self):
        return self


def worker_loop(iterable: bool, dataset, index_queue, data_queue, done_event, auto_collation,
                collate_fn, drop_last, base_seed, init_fn, worker_id, num_workers) -> None:
    """The body of one worker process."""
    from deepnum.random import manual_seed
    from deepnum.utils.data.fetch import make_fetcher

    global _worker_info
    try:
        seed = base_seed + worker_id
        random.seed(seed)
        manual_seed(seed)
        # NumPy's legacy global generator, which datasets' own augmentations often use
        np.random.seed(np.random.SeedSequence([base_seed, worker_id]).generate_state(4))  # noqa: NPY002
        _worker_info = WorkerInfo(worker_id, num_workers, seed, dataset)
        init_error = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
        except Exception:
            init_error = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
        iteration_end = False
        parent = os.getppid()
        while os.getppid() == parent:  # a worker whose parent died exits
            try:
                task = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(task, ResumeIteration):
                data_queue.put((task, None))
                iteration_end = False
                fetcher = make_fetcher(iterable, dataset, auto_collation, collate_fn, drop_last)
                continue
            if task is None:  # shut down
                break
            if done_event.is_set() or iteration_end:
                continue  # draining: no more batches
            idx, index = task
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = fetcher.fetch(index)
                except StopIteration:
                    if not iterable:
                        data = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
                    else:
                        data, iteration_end = IterableDatasetStopIteration(worker_id), True
                except Exception:
                    data = ExceptionWrapper(f"in DataLoader worker process {worker_id}")
            data_queue.put((idx, data))
            del data, idx, index, task
    except KeyboardInterrupt:
        pass  # the main process handles ^C
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
