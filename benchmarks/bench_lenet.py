"""LeNet-5 training speed and memory: deepnum against PyTorch on the same network and data.

Both train the registry's ``lenet5`` (ReLU, max pooling; PyTorch gets the same initial weights) with
SGD (lr 0.01, momentum 0.9) and cross-entropy at batch 128, with the same thread count. The runs
are interleaved (deepnum epoch, torch epoch, deepnum epoch, ...) after a warm-up, so a burst of
load from other processes hits both alike; the median of the repeats is reported, with the load
average, because the machine is shared.

    python benchmarks/bench_lenet.py                    # 60,000 random 28x28 images, 3 repeats
    python benchmarks/bench_lenet.py --data fashion     # the Fashion-MNIST training images
    python benchmarks/bench_lenet.py --memory           # tracemalloc peak of one training step
    python benchmarks/bench_lenet.py --profile          # cProfile of deepnum's steps

``deepnum_lenet()`` and ``torch_lenet()`` are also used by the benchmark suite
(benchmarks/lenet.py).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

LR, MOMENTUM, BATCH = 0.01, 0.9, 128


def deepnum_lenet():
    import deepnum as dn
    from deepnum.models import build

    dn.manual_seed(0)
    return build("lenet5", num_classes=10)


def torch_lenet():
    import torch
    from torch import nn

    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    ).to(torch.float32)


def same_weights(torch_model, dn_model):
    import torch

    with torch.no_grad():
        for p, q in zip(torch_model.parameters(), dn_model.parameters(), strict=True):
            p.copy_(torch.from_numpy(q.array.copy()))
    return torch_model


def load_data(kind: str, n: int):
    if kind == "fashion":
        from deepnum.data import load_fashion_mnist

        x, y = load_fashion_mnist("train", normalize=True)
        x = x.reshape(-1, 1, 28, 28).astype(np.float32)[:n]
        return x, y.astype(np.int64)[:n]
    rng = np.random.default_rng(0)
    return (rng.random((n, 1, 28, 28), dtype=np.float32),
            rng.integers(0, 10, n).astype(np.int64))


def deepnum_trainer(x, y, steps=None):
    import deepnum as dn
    from deepnum import nn

    model = deepnum_lenet()
    opt = dn.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    starts = list(range(0, len(x), BATCH))[:steps]
    wrap = dn.Tensor._wrap

    def run():
        t0 = time.perf_counter()
        for i in starts:
            opt.zero_grad()
            loss = loss_fn(model(wrap(x[i:i + BATCH])), wrap(y[i:i + BATCH]))
            loss.backward()
            opt.step()
        return time.perf_counter() - t0, float(loss.item())

    return run


def torch_trainer(x, y, steps=None):
    import torch

    model = same_weights(torch_lenet(), deepnum_lenet())
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    starts = list(range(0, len(x), BATCH))[:steps]

    def run():
        t0 = time.perf_counter()
        for i in starts:
            opt.zero_grad()
            loss = loss_fn(model(xt[i:i + BATCH]), yt[i:i + BATCH])
            loss.backward()
            opt.step()
        return time.perf_counter() - t0, float(loss.item())

    return run


def set_threads(n: int) -> None:
    import torch
    from threadpoolctl import threadpool_limits

    threadpool_limits(n)
    torch.set_num_threads(n)


def compare(args) -> None:
    x, y = load_data(args.data, args.samples)
    ours, theirs = deepnum_trainer(x, y), torch_trainer(x, y)
    deepnum_trainer(x, y, steps=5)()  # warm-up: imports, allocator, BLAS threads
    torch_trainer(x, y, steps=5)()
    times = {"deepnum": [], "torch": []}
    print(f"LeNet-5, {len(x)} images {args.data}, batch {BATCH}, {args.threads} threads, "
          f"load average before: {os.getloadavg()[0]:.2f}")
    for r in range(args.repeats):
        for name, run in (("deepnum", ours), ("torch", theirs)):
            seconds, loss = run()
            times[name].append(seconds)
            print(f"  repeat {r + 1} {name:8s} {seconds:7.2f} s  (last loss {loss:.3f})",
                  flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"median epoch: deepnum {med['deepnum']:.2f} s, torch {med['torch']:.2f} s, "
          f"ratio {med['deepnum'] / med['torch']:.2f}x; load average after: "
          f"{', '.join(f'{v:.2f}' for v in os.getloadavg())}")


def memory(args) -> None:
    """Peak bytes NumPy allocates during one training step (after a warm-up step), per batch."""
    x, y = load_data("random", 512)
    for batch in (64, 128, 256):
        global BATCH
        BATCH = batch
        run = deepnum_trainer(x[:batch * 2], y[:batch * 2], steps=1)
        run()  # optimizer state and caches exist after the first step
        tracemalloc.start()
        run()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        from deepnum.ops.conv import SCRATCH

        held = SCRATCH.held
        print(f"batch {batch:4d}: peak {peak / 2**20:6.1f} MiB allocated during one training step "
              f"({peak / batch / 2**20:.3f} MiB per sample), plus {held / 2**20:.1f} MiB of "
              f"im2col scratch reused from the step before; total "
              f"{(peak + held) / batch / 2**20:.3f} MiB per sample")
        SCRATCH.clear()


def profile(args) -> None:
    import cProfile
    import pstats

    x, y = load_data(args.data, 128 * 100)
    run = deepnum_trainer(x, y)
    run()
    profiler = cProfile.Profile(time.process_time)  # CPU time: less swayed by other processes
    profiler.runcall(run)
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", choices=("random", "fashion"), default="random")
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    set_threads(args.threads)
    if args.memory:
        memory(args)
    elif args.profile:
        profile(args)
    else:
        compare(args)


if __name__ == "__main__":
    main()
