"""Data-parallel training time: deepnum on MPI against PyTorch DDP (gloo, torchrun), same model,
data and global batch, in one run of this script.

    python -m benchmarks.ddp                   # MLP and LeNet-5, 3 epochs of 10,000 digits each

Configurations: N=1 with 1 thread, N=1 with 2 threads, N=2 with 1 thread each; every process
trains on its share of the MNIST test digits (shuffled per epoch, global batch 128), and the
median epoch time after the first is reported with the speed-up over N=1 (1 thread), plus
deepnum's communication per step (bytes, and seconds spent waiting for the gradients).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

GLOBAL_BATCH = 128
HERE = Path(__file__).resolve()


def _data():
    from benchmarks.realdata import load

    x, y = load("mnist-test")
    return x, y


def worker(framework: str, model_name: str, epochs: int, threads: int) -> dict:
    """One process's share of the training; prints its JSON result (rank 0's is used)."""
    os.environ["OMP_NUM_THREADS"] = str(threads)
    from threadpoolctl import threadpool_limits

    threadpool_limits(threads)
    x, y = _data()
    if model_name == "mlp":
        x = x.reshape(len(x), -1)
    return (_deepnum if framework == "deepnum" else _torch)(model_name, x, y, epochs, threads)


def _deepnum(model_name, x, y, epochs, threads):
    import deepnum as dn
    import deepnum.distributed as dist
    from benchmarks import lenet, mlp
    from deepnum.nn.parallel import DistributedDataParallel
    from deepnum.utils.data import DataLoader, DistributedSampler, TensorDataset

    dist.init()
    dn.fast.jit.set_num_threads(threads)
    model = (mlp if model_name == "mlp" else lenet).deepnum_model()
    ddp = DistributedDataParallel(model) if dist.get_world_size() > 1 else model
    opt = dn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    batch = GLOBAL_BATCH // dist.get_world_size()
    sampler = DistributedSampler(TensorDataset(x, y), shuffle=True, seed=0)
    loader = DataLoader(sampler.dataset, batch_size=batch, sampler=sampler)
    times, steps = [], 0
    for epoch in range(epochs):
        sampler.set_epoch(epoch)
        start = time.perf_counter()
        for xb, yb in loader:
            opt.zero_grad()
            dn.nn.functional.cross_entropy(ddp(xb), yb).backward()
            opt.step()
            steps += 1
        dist.barrier()
        times.append(time.perf_counter() - start)
    result = {"epoch_s": times, "steps": steps}
    if ddp is not model:
        result.update(comm_bytes_per_step=ddp.comm_bytes / steps,
                      wait_s_per_step=ddp.comm_seconds / steps)
    return result


def _torch(model_name, x, y, epochs, threads):
    import torch
    import torch.distributed as tdist

    from benchmarks import lenet, mlp

    torch.set_num_threads(threads)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1:
        tdist.init_process_group("gloo")
    rank = tdist.get_rank() if world > 1 else 0
    family = mlp if model_name == "mlp" else lenet
    ours = family.deepnum_model()
    model = family.torch_model(ours) if model_name == "lenet" else family.torch_model(
        family.weights_of(ours))
    ddp = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    data, labels = torch.from_numpy(x), torch.from_numpy(y)
    batch = GLOBAL_BATCH // world
    generator = np.random.Generator(np.random.PCG64(0))
    times = []
    for _ in range(epochs):
        order = generator.permutation(len(x))
        total = -(-len(x) // world) * world
        order = np.concatenate([order, order[:total - len(x)]])[rank:total:world]
        order = torch.from_numpy(order)
        start = time.perf_counter()
        for i in range(0, len(order), batch):
            index = order[i:i + batch]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(ddp(data[index]), labels[index]).backward()
            opt.step()
        if world > 1:
            tdist.barrier()
        times.append(time.perf_counter() - start)
    return {"epoch_s": times}


def _launch(framework, model, epochs, n, threads) -> dict:
    env = {**os.environ, "PYTHONPATH": str(HERE.parents[1]) + os.pathsep
           + os.environ.get("PYTHONPATH", "")}
    args = [sys.executable, "-m", "benchmarks.ddp", "--worker", framework, model,
            str(epochs), str(threads)]
    if framework == "deepnum" and n > 1:
        mpiexec = Path(sys.executable).with_name("mpiexec")
        args = [str(mpiexec), "-n", str(n), *args]
    elif framework == "pytorch" and n > 1:
        args = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={n}",
                "--master_port=29533", "-m", "benchmarks.ddp", "--worker", framework, model,
                str(epochs), str(threads)]
    done = subprocess.run(args, capture_output=True, text=True, env=env, cwd=HERE.parents[1],
                          timeout=3600)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    return json.loads(lines[0])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="mlp,lenet")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--worker", nargs=4, metavar=("FRAMEWORK", "MODEL", "EPOCHS", "THREADS"))
    args = parser.parse_args(argv)
    if args.worker:
        framework, model, epochs, threads = args.worker
        result = worker(framework, model, int(epochs), int(threads))
        rank = int(os.environ.get("PMI_RANK", os.environ.get("RANK", "0")))
        if rank == 0:
            print(json.dumps(result), flush=True)
        return 0
    print("model | framework | N=1 1 thread s/epoch | N=1 2 threads | N=2 1 thread each | "
          "speed-up N=2 over N=1 (1 thread) | comm per step")
    print("--- | --- | --- | --- | --- | --- | ---")
    for model in args.models.split(","):
        for framework in ("deepnum", "pytorch"):
            runs = [_launch(framework, model, args.epochs, n, t) for n, t in ((1, 1), (1, 2),
                                                                           (2, 1))]
            med = [float(np.median(r["epoch_s"][1:] or r["epoch_s"])) for r in runs]
            comm = runs[2].get("comm_bytes_per_step")
            comm_text = (f"{comm / 1e6:.2f} MB, wait {1e3 * runs[2]['wait_s_per_step']:.2f} ms"
                         if comm else "-")
            print(f"{model} | {framework} | {med[0]:.3f} | {med[1]:.3f} | {med[2]:.3f} | "
                  f"{med[0] / med[2]:.2f}x | {comm_text}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
