"""Data-parallel training on MPI (through mpi4py), with PyTorch's names.

Started with ``mpiexec -n N python train.py`` (or ``mpiexec -n N deepnum train ...``), every
process runs the same program on its share of the data; :func:`init` joins them. With one process
(no mpiexec), everything here is a no-op, so the same script runs alone.

Reductions are deterministic: :func:`all_reduce` gathers every rank's array and sums them in rank
order on every rank (MPI's own reduction may split and order the sum differently with the message
size or the algorithm its tuning picks; gathered, the same N gives the same bits, every run). The
cost is (N-1)/N more data than a ring all-reduce moves (see benchmarks/README.md for the model).

>>> import deepnum.distributed as dist
>>> dist.init()                              # rank and world size from the MPI environment
>>> dist.all_reduce(t, op="mean")            # in place, as torch.distributed.all_reduce
"""

from __future__ import annotations

import os

import numpy as np

from deepnum.errors import DeepnumError

_state = {"comm": None, "rank": 0, "size": 1, "initialized": False}


class DistributedError(DeepnumError):
    """A distributed run cannot go on (MPI missing, a lost rank, mismatched ranks)."""


class ReduceOp:
    SUM, MEAN, MAX, MIN, PRODUCT = "sum", "mean", "max", "min", "product"


def launched_by_mpi() -> bool:
    """Whether this process was started by mpiexec/srun with several ranks."""
    for variable in ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "PMIX_SIZE",
                     "SLURM_NTASKS"):
        value = os.environ.get(variable)
        if value and value.isdigit() and int(value) > 1:
            return True
    return False


def is_available() -> bool:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return False
    return True


def init(backend: str = "mpi", **kwargs) -> None:
    """Join the MPI job (``init_process_group`` is the same). One process: nothing to join."""
    if _state["initialized"]:
        return
    if backend not in ("mpi", "gloo", None):
        raise DistributedError(f"deepnum.distributed runs on MPI; backend {backend!r} is not "
                               f"available (use 'mpi')")
    if launched_by_mpi() or kwargs.get("force"):
        try:
            from mpi4py import MPI
        except ImportError:
            raise DistributedError("this run was started by mpiexec, but mpi4py is not "
                                   "installed: pip install 'deepnum[distributed]'") from None
        comm = MPI.COMM_WORLD
        _state.update(comm=comm, rank=comm.Get_rank(), size=comm.Get_size())
    _state["initialized"] = True


init_process_group = init


def destroy_process_group() -> None:
    _state.update(comm=None, rank=0, size=1, initialized=False)


def is_initialized() -> bool:
    return _state["initialized"]


def get_rank() -> int:
    return _state["rank"]


def get_world_size() -> int:
    return _state["size"]


rank, world_size = get_rank, get_world_size


def is_main() -> bool:
    """Whether this is rank 0 (the one that prints and writes files)."""
    return _state["rank"] == 0


def comm():
    return _state["comm"]


def _array(t):
    return t.array if hasattr(t, "array") else t


def barrier() -> None:
    if _state["comm"] is not None:
        _state["comm"].Barrier()


def gather_all(array: np.ndarray) -> np.ndarray:
    """(world_size, *array.shape): every rank's array, in rank order, on every rank."""
    array = np.ascontiguousarray(array)
    if _state["comm"] is None:
        return array[None]
    out = np.empty((_state["size"],) + array.shape, dtype=array.dtype)
    _state["comm"].Allgather(array, out)
    return out


def reduce_gathered(gathered: np.ndarray, op: str) -> np.ndarray:
    """The reduction of a gathered (N, ...) array, summed in rank order (deterministic)."""
    if op in (ReduceOp.SUM, ReduceOp.MEAN):
        total = gathered[0].copy()
        for part in gathered[1:]:
            total += part
        if op == ReduceOp.MEAN:
            total /= np.asarray(len(gathered), dtype=total.dtype)
        return total
    functions = {ReduceOp.MAX: np.maximum, ReduceOp.MIN: np.minimum,
                 ReduceOp.PRODUCT: np.multiply}
    if op not in functions:
        raise ValueError(f"all_reduce: op must be one of sum, mean, max, min, product, got "
                         f"{op!r}")
    return functions[op].reduce(gathered, axis=0)


class RankOrderAllReduce:
    """A non-blocking all-reduce as fast as a ring and as deterministic as a sum in rank order.

    The array is cut into N equal chunks (zero-padded). Phase 1, an all-to-all, gives rank r the
    r-th chunk of every rank; rank r reduces its chunk in rank order (0 + 1 + ... + N-1, the
    same additions as a serial sum of the N arrays, on any MPI library and algorithm). Phase 2,
    an all-gather, gives every rank every reduced chunk. Each rank sends and receives
    2 (N-1)/N of the array's bytes, the bandwidth of a ring all-reduce.

    >>> reduction = RankOrderAllReduce(flat_gradients, "mean")   # starts phase 1
    >>> average = reduction.wait()                                # on every rank, bit-equal
    """

    def __init__(self, flat: np.ndarray, op: str = ReduceOp.SUM):
        n = _state["size"]
        self.size, self.op, self.phase = flat.size, op, 1
        chunk = -(-flat.size // n)
        self.send = np.zeros((n, chunk), dtype=flat.dtype)
        self.send.reshape(-1)[:flat.size] = flat.reshape(-1)
        self.recv = np.empty_like(self.send)
        self.request = _state["comm"].Ialltoall(self.send, self.recv)

    @property
    def nbytes(self) -> int:
        """Bytes this rank sends (and receives) over both phases."""
        return 2 * (len(self.send) - 1) * self.send[0].nbytes

    def progress(self) -> None:
        """Start phase 2 if phase 1 has arrived (cheap; called while backward runs)."""
        if self.phase == 1 and self.request.Test():
            self._second_phase()

    def _second_phase(self) -> None:
        mine = reduce_gathered(self.recv, self.op)
        self.out = np.empty_like(self.send)
        self.request = _state["comm"].Iallgather(mine, self.out)
        self.phase = 2

    def wait(self) -> np.ndarray:
        if self.phase == 1:
            self.request.Wait()
            self._second_phase()
        self.request.Wait()
        return self.out.reshape(-1)[:self.size]


def all_reduce(tensor, op: str = ReduceOp.SUM, group=None, async_op: bool = False):
    """Reduce ``tensor`` (a Tensor or an ndarray) over all ranks, in place, summing in rank
    order (see RankOrderAllReduce); returns it."""
    op = str(op).lower().split(".")[-1]
    array = _array(tensor)
    if _state["size"] > 1:
        reduce_gathered(array[None], op)  # an unknown op fails here, on every rank alike
        flat = np.ascontiguousarray(array).reshape(-1)
        array[...] = RankOrderAllReduce(flat, op).wait().reshape(array.shape)
    return tensor


def broadcast(tensor, src: int = 0, group=None, async_op: bool = False):
    """``tensor`` on every rank becomes rank ``src``'s, in place."""
    if _state["comm"] is not None and _state["size"] > 1:
        array = _array(tensor)
        if not array.flags.c_contiguous:
            copy = np.ascontiguousarray(array)
            _state["comm"].Bcast(copy, root=src)
            array[...] = copy
        else:
            _state["comm"].Bcast(array, root=src)
    return tensor


def all_gather(tensor_list, tensor, group=None, async_op: bool = False):
    """Fill ``tensor_list`` (one tensor per rank) with every rank's ``tensor``; with
    ``tensor_list=None`` return the gathered (world_size, ...) array instead."""
    gathered = gather_all(_array(tensor))
    if tensor_list is None:
        return gathered
    for target, part in zip(tensor_list, gathered):
        _array(target)[...] = part
    return tensor_list


def gather_rows(array: np.ndarray) -> np.ndarray:
    """Every rank's rows (uneven counts allowed), concatenated in rank order, on every rank."""
    array = np.ascontiguousarray(array)
    if _state["comm"] is None or _state["size"] == 1:
        return array
    counts = gather_all(np.asarray([len(array)], dtype=np.int64)).reshape(-1)
    row = int(np.prod(array.shape[1:], dtype=np.int64))
    out = np.empty((int(counts.sum()),) + array.shape[1:], dtype=array.dtype)
    sizes = [int(c) * row for c in counts]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]]).tolist()
    _state["comm"].Allgatherv(array.reshape(-1), [out.reshape(-1), sizes, offsets,
                                                  _mpi_type(array.dtype)])
    return out


def _mpi_type(dtype):
    from mpi4py import MPI

    return MPI._typedict[np.dtype(dtype).char]


from deepnum.utils.data.sampler import DistributedSampler  # noqa: E402, F401 - PyTorch's place
