"""A scaling model for data-parallel training: how far N ranks carry the MLP, LeNet-5 and AlexNet.

    python -m benchmarks.scaling                 # measures compute per sample here, prints tables

Per step every rank computes on its own ``b`` samples (weak scaling: the per-rank batch stays,
the global batch is N x b) and then the gradients of G bytes are averaged. A ring all-reduce
(reduce-scatter + all-gather, what NCCL, Horovod and gloo use) sends and receives
2 (N-1)/N x G bytes per rank in 2 (N-1) messages. deepnum's exchange
(deepnum.distributed.RankOrderAllReduce) moves the same bytes, an all-to-all of chunks and an
all-gather of the reduced chunks, and adds each chunk's N parts in rank order so the result
never depends on the MPI library's algorithm; the local sum reads G bytes:
      t_deepnum = 2 (N-1)/N x G / B + 2 (N-1) x alpha + G / memory bandwidth.
For contrast, the first version gathered every rank's whole gradient and summed locally:
      t_gather = (N-1) x G / B + (N-1) x alpha + N x G / memory bandwidth.

The gradients of the last layers are ready first and their exchange starts while backward
continues (DistributedDataParallel's buckets), so up to the backward's share of compute (2/3 of
forward + backward) hides communication: exposed = max(0, t_comm - 2/3 t_compute). Efficiency is
t_compute / (t_compute + exposed); the speed-up over one rank is N x efficiency. A model "stops
scaling" at the first N where efficiency falls under 50%: each added rank then buys less than
half a rank.

Compute per sample is measured here, one thread, float32, on the model's real input size
(AlexNet: a few 224 x 224 images). The network is a parameter: 10 Gb/s Ethernet with TCP
(alpha = 30 us) and 100 Gb/s InfiniBand with RDMA (alpha = 2 us); memory bandwidth 10 GB/s per
rank. These are assumptions stated, not measurements; benchmarks/ddp.py measures N=2 on one host.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

NETWORKS = {"10 Gb/s Ethernet": (10e9 / 8, 30e-6), "100 Gb/s InfiniBand": (100e9 / 8, 2e-6)}
MEMORY_BANDWIDTH = 10e9
RANKS = (2, 8, 64, 512)
BACKWARD_SHARE = 2 / 3


def _models():
    import deepnum as dn
    from benchmarks import lenet, mlp

    dn.manual_seed(0)
    alexnet = dn.models.build("alexnet")
    return {
        "MLP 784-256-128-10": (mlp.deepnum_model(), (784,), 64),
        "LeNet-5": (lenet.deepnum_model(), (1, 28, 28), 64),
        "AlexNet (224 x 224)": (alexnet, (3, 224, 224), 128),
    }


def seconds_per_sample(model, shape, batch: int, steps: int) -> float:
    """Median forward + backward + SGD step time over ``steps`` steps, divided by the batch."""
    import deepnum as dn

    rng = np.random.default_rng(0)
    x = dn.tensor(rng.random((batch, *shape), dtype=np.float32))
    out_features = model(x[:1]).shape[-1]
    y = dn.tensor(rng.integers(0, out_features, batch))
    opt = dn.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    times = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        opt.zero_grad()
        dn.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
        times.append(time.perf_counter() - start)
    return float(np.median(times[1:])) / batch


def exchange_seconds(kind: str, n: int, grad_bytes: float, bandwidth: float,
                     latency: float) -> float:
    if n == 1:
        return 0.0
    if kind == "deepnum":
        return (2 * (n - 1) / n * grad_bytes / bandwidth + 2 * (n - 1) * latency
                + grad_bytes / MEMORY_BANDWIDTH)
    return ((n - 1) * grad_bytes / bandwidth + (n - 1) * latency
            + n * grad_bytes / MEMORY_BANDWIDTH)


def efficiency(compute: float, comm: float) -> float:
    exposed = max(0.0, comm - BACKWARD_SHARE * compute)
    return compute / (compute + exposed)


def stops_scaling(kind, compute, grad_bytes, bandwidth, latency) -> str:
    n = 2
    while n <= 1 << 16:
        if efficiency(compute, exchange_seconds(kind, n, grad_bytes, bandwidth, latency)) < 0.5:
            return str(n)
        n *= 2
    return "> 65536"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alexnet-batch", type=int, default=4,
                        help="images per measured AlexNet step (the model uses b = 128)")
    args = parser.parse_args(argv)
    import deepnum as dn

    dn.fast.jit.set_num_threads(1)
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)
    rows = []
    for name, (model, shape, b) in _models().items():
        measured_batch = args.alexnet_batch if "AlexNet" in name else b
        per_sample = seconds_per_sample(model, shape, measured_batch,
                                        steps=3 if "AlexNet" in name else 30)
        grad_bytes = 4 * sum(p.numel() for p in model.parameters())
        rows.append((name, b, per_sample, grad_bytes))
        print(f"{name}: {grad_bytes / 1e6:.2f} MB of gradients, {1e3 * per_sample:.3f} ms "
              f"per sample (1 thread, measured at batch {measured_batch}), per-rank batch "
              f"b = {b}: {1e3 * b * per_sample:.1f} ms compute per step", flush=True)
    for network, (bandwidth, latency) in NETWORKS.items():
        print(f"\n{network} (alpha = {1e6 * latency:.0f} us): speed-up over one rank "
              f"(efficiency): deepnum's all-reduce / the first version's gather-and-sum")
        print("model | " + " | ".join(f"N={n}" for n in RANKS)
              + " | stops scaling at N (deepnum / gather)")
        print("--- | " + " | ".join("---" for _ in RANKS) + " | ---")
        for name, b, per_sample, grad_bytes in rows:
            compute = b * per_sample
            cells = []
            for n in RANKS:
                ring = efficiency(compute, exchange_seconds("deepnum", n, grad_bytes, bandwidth,
                                                            latency))
                gather = efficiency(compute, exchange_seconds("gather", n, grad_bytes,
                                                              bandwidth, latency))
                cells.append(f"{n * ring:.1f}x ({ring:.0%}) / {n * gather:.1f}x ({gather:.0%})")
            stop = (stops_scaling("deepnum", compute, grad_bytes, bandwidth, latency) + " / "
                    + stops_scaling("gather", compute, grad_bytes, bandwidth, latency))
            print(f"{name} | " + " | ".join(cells) + f" | {stop}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
