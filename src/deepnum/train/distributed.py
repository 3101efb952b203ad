"""What the Trainer does differently when it trains data-parallel (under mpiexec).

Every rank trains the same model (DistributedDataParallel averages the gradients) on its share
of each epoch's shuffle; the logged loss and metrics are sums over all ranks, so they are the
whole epoch's (and evaluation covers the whole validation or test set, each rank its part);
only rank 0 prints and writes files; a checkpoint holds every rank's random-generator state, so
``resume`` continues bit for bit with the same number of ranks. One process: all of it is the
plain Trainer's behaviour.
"""

from __future__ import annotations

import numpy as np

from deepnum import distributed as dist


class Parallel:
    """The Trainer's view of the job: its model (wrapped or not) and the reductions."""

    def __init__(self, model, ddp=None):
        self.model = model if ddp is None else ddp
        self.ddp = ddp

    @property
    def is_main(self) -> bool:
        return dist.is_main()

    @property
    def world(self) -> int:
        return dist.get_world_size() if self.ddp is not None else 1

    def shard(self, training: bool):
        """This rank's share of a loader: padded to equal shares in training (every rank must
        take the same number of steps), uneven in evaluation (no sample counted twice)."""
        if self.ddp is None:
            return None
        return (dist.get_rank(), dist.get_world_size(), training)

    def reduce_sums(self, total: float, seen: int, metrics):
        """The loss sum, the sample count and every metric's (total, count), summed over the
        ranks in rank order."""
        if self.ddp is None:
            return total, seen
        values = np.array([total, seen] + [v for m in metrics for v in (m.total, m.count)],
                          dtype=np.float64)
        dist.all_reduce(values)
        for i, m in enumerate(metrics):
            m.total, m.count = float(values[2 + 2 * i]), int(values[3 + 2 * i])
        return float(values[0]), int(values[1])

    def average_gradients(self) -> None:
        if self.ddp is not None:
            self.ddp.average_now()

    def checkpoint_fields(self) -> dict:
        if self.ddp is None:
            return {}
        from deepnum.random import get_state

        return {"world_size": dist.get_world_size(), "rng_ranks": gather_states(get_state())}

    def own_rng_state(self, state: dict) -> dict:
        """This rank's generator state from a checkpoint (refusing another number of ranks)."""
        written = state.get("world_size", 1)
        if written != self.world:
            raise ValueError(f"the checkpoint was written by a run with {written} rank(s); "
                             f"resume it with the same number (mpiexec -n {written})")
        if self.ddp is None:
            return state["rng"]
        return state["rng_ranks"][dist.get_rank()]


def wrap(model, distributed: bool | None) -> Parallel:
    """The Trainer's Parallel: data-parallel when asked, or by default when started by
    mpiexec with several ranks."""
    if distributed is None:
        distributed = dist.launched_by_mpi()
    if not distributed:
        return Parallel(model)
    dist.init()
    if dist.get_world_size() == 1:
        return Parallel(model)
    from deepnum.nn.parallel import DistributedDataParallel

    return Parallel(model, model if isinstance(model, DistributedDataParallel)
                    else DistributedDataParallel(model))


def gather_states(state: dict) -> list[dict]:
    """Every rank's PCG64 state, in rank order (two 128-bit numbers and two small ones each)."""
    numbers = [state["state"]["state"], state["state"]["inc"], state["has_uint32"],
               state["uinteger"]]
    # 128-bit integers as four 32-bit words, so they travel as a plain integer array
    words = np.array([(v >> (32 * k)) & 0xFFFFFFFF for v in numbers for k in range(4)],
                     dtype=np.uint64)
    gathered = dist.gather_all(words).astype(object)
    states = []
    for row in gathered:
        values = [sum(int(row[4 * i + k]) << (32 * k) for k in range(4)) for i in range(4)]
        states.append({"bit_generator": "PCG64", "state": {"state": values[0],
                                                          "inc": values[1]},
                       "has_uint32": values[2], "uinteger": values[3]})
    return states
