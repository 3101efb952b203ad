"""What the distributed tests run under mpiexec: ``python job.py one-step OUT BATCH`` does one
SGD step of a small MLP on a global batch of BATCH samples split over the ranks and saves the
parameters (rank 0); ``python job.py reduce OUT`` all-reduces known arrays (odd sizes, every op)
and saves rank 0's results; ``python job.py cli ARGS...`` runs the deepnum command."""

import sys

import numpy as np


def one_step(out: str, global_batch: int) -> None:
    import deepnum as dn
    import deepnum.distributed as dist
    import deepnum.nn as nn

    dist.init()
    rank, world = dist.get_rank(), dist.get_world_size()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((global_batch, 20)).astype(np.float32)
    y = rng.integers(0, 3, global_batch)
    dn.manual_seed(rank)  # a different start on every rank: DDP must make them equal
    model = nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 3))
    ddp = nn.parallel.DistributedDataParallel(model, bucket_cap_mb=0.001)  # several buckets
    opt = dn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    share = global_batch // world
    part = slice(rank * share, (rank + 1) * share)
    nn.functional.cross_entropy(ddp(dn.tensor(x[part])), y[part]).backward()
    opt.step()
    if rank == 0:
        np.savez(out, *[p.numpy() for p in model.parameters()])


def reduce(out: str) -> None:
    import deepnum.distributed as dist

    dist.init()
    rank, world = dist.get_rank(), dist.get_world_size()
    results = {}
    for size in (1, 7, 1000):
        for op in ("sum", "mean", "max", "min"):
            mine = np.random.default_rng([rank, size]).standard_normal(size).astype(np.float32)
            results[f"{op}_{size}"] = dist.all_reduce(mine, op)
    if rank == 0:
        np.savez(out, world=world, **results)


if __name__ == "__main__":
    if sys.argv[1] == "one-step":
        one_step(sys.argv[2], int(sys.argv[3]))
    elif sys.argv[1] == "reduce":
        reduce(sys.argv[2])
    else:
        from deepnum.cli import main

        sys.exit(main(sys.argv[2:]))
