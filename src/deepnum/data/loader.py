"""DataLoader: iterate over a dataset in (shuffled) mini-batches of deepnum Tensors.

Semantics follow PyTorch: each ``iter()`` is one epoch and draws a fresh shuffle; ``len()`` is the
number of batches. A :class:`TensorDataset` (or a Subset of one) is batched by fancy-indexing whole
arrays, one NumPy call per array per batch; any other dataset is read sample by sample and stacked.

The loader owns its random generator, seeded from ``seed`` or, when ``seed`` is None, from one
draw of deepnum's global generator at construction (so ``dn.manual_seed`` still fixes it).
:meth:`DataLoader.state_dict` captures that generator and the number of epochs started, so a run
resumed from a checkpoint taken between epochs sees exactly the same shuffles as the original run.

>>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, seed=0)
>>> for xb, yb in loader: ...   # xb float32 (64, ...) Tensor, yb int64 (64,) Tensor
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.data.dataset import as_arrays, as_numpy
from deepnum.errors import DataError
from deepnum.random import get_rng


class DataLoader:
    """Mini-batches of ``dataset`` as tuples of Tensors.

    Floating-point fields keep their dtype; integer and boolean fields (labels) become int64.

    >>> loader = DataLoader(dataset, batch_size=32, shuffle=True, drop_last=True, seed=0)
    >>> len(loader)   # len(dataset) // 32 batches
    """

    def __init__(self, dataset, batch_size=32, shuffle=False, drop_last=False, seed=None,
                 shard=None):
        """``shard=(rank, world_size)`` gives this rank its share of every epoch's order (the
        same permutation on every rank, padded by repeating its start so the shares are equal:
        deepnum.distributed's convention)."""
        is_int = isinstance(batch_size, (int, np.integer)) and not isinstance(batch_size, bool)
        if not is_int or batch_size < 1:
            raise DataError(f"DataLoader: batch_size must be an integer >= 1, got {batch_size!r}")
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.drop_last = drop_last
        if seed is None:
            seed = int(get_rng().integers(2**63))
        self.seed = seed
        self.generator = np.random.Generator(np.random.PCG64(seed))
        self.epochs_started = 0
        # (rank, world_size, pad): pad=False (evaluation) gives uneven shares, none repeated
        self.shard = None if shard is None else (int(shard[0]), int(shard[1]),
                                                 bool(shard[2]) if len(shard) > 2 else True)

    def _samples(self) -> int:
        n = len(self.dataset)
        if self.shard is None:
            return n
        rank, world, pad = self.shard
        return math.ceil(n / world) if pad else len(range(rank, n, world))

    def __len__(self) -> int:
        n = self._samples()
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self):
        """Start an epoch: draw its order now, then yield its batches lazily."""
        n = len(self.dataset)
        order = self.generator.permutation(n) if self.shuffle else np.arange(n)
        self.epochs_started += 1
        if self.shard is not None:
            rank, world, pad = self.shard
            total = math.ceil(n / world) * world if pad else n
            if total > n:
                order = np.concatenate([order, np.resize(order, total - n)])
            order = order[rank:total:world]
        return self._batches(order)

    def _batches(self, order: np.ndarray):
        from deepnum.tensor import Tensor  # lazy: the data package must not need the engine

        fast = as_arrays(self.dataset)
        stop = len(order) - len(order) % self.batch_size if self.drop_last else len(order)
        for start in range(0, stop, self.batch_size):
            index = order[start : start + self.batch_size]
            if fast is not None:
                arrays, index_map = fast
                rows = index if index_map is None else index_map[index]
                fields = [array[rows] for array in arrays]
            else:
                fields = _collate([self.dataset[int(i)] for i in index])
            yield tuple(Tensor(_batch_dtype(field)) for field in fields)

    def state_dict(self) -> dict:
        """The generator's state and the epoch count; JSON-serialisable."""
        return {
            "seed": self.seed,
            "generator": self.generator.bit_generator.state,
            "epochs_started": self.epochs_started,
        }

    def load_state_dict(self, state: dict) -> None:
        """Resume from :meth:`state_dict`: the next ``iter()`` repeats the original next epoch."""
        try:
            self.generator.bit_generator.state = state["generator"]
            self.epochs_started = int(state["epochs_started"])
            self.seed = state.get("seed", self.seed)
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(f"DataLoader.load_state_dict: not a loader state ({error})") from error

    def __repr__(self) -> str:
        return (
            f"DataLoader({type(self.dataset).__name__} of {len(self.dataset)}, "
            f"batch_size={self.batch_size}, shuffle={self.shuffle}, drop_last={self.drop_last})"
        )


def _collate(samples: list) -> list[np.ndarray]:
    """Stack a list of samples (tuples of fields, or single values) field by field."""
    if not samples:
        return []
    if not isinstance(samples[0], (tuple, list)):
        samples = [(sample,) for sample in samples]
    width = len(samples[0])
    if any(len(sample) != width for sample in samples):
        raise DataError("DataLoader: the dataset's samples do not all have the same fields")
    try:
        return [np.stack([_unwrap(sample[i]) for sample in samples]) for i in range(width)]
    except ValueError as error:
        raise DataError(f"DataLoader: cannot stack samples into a batch: {error}") from error


def _unwrap(value):
    """A Tensor's array, or the value as an array."""
    return as_numpy(value)


def _batch_dtype(field: np.ndarray) -> np.ndarray:
    """Labels (integer or boolean fields) as int64, what the losses index with; floats unchanged."""
    return field.astype(np.int64) if field.dtype.kind in "iub" else field
