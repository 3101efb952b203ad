"""Training as users train: real digits, a fresh shuffle every epoch, mini-batches gathered per
step, through a plain loop and through ``Trainer.fit``, with per-epoch times over a whole run,
next to PyTorch's on the same batches. Random images of the same shapes are kept for comparison
(they flatter whichever framework does not gain from what real data has: zeros, small values).

    python -m benchmarks.realdata                          # MLP and LeNet-5, batch 32/64/128
    python -m benchmarks.realdata --models lenet --batches 64 --epochs 15 --data mnist-test

All contenders start from the same weights and see the same batches (the permutation
``deepnum.data.DataLoader(shuffle=True, seed=0)`` draws each epoch), and run interleaved epoch
by epoch, so a slowdown that grows with training (denormal numbers in the momentum buffers,
activations that become sparse) shows in the per-epoch columns.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from benchmarks import harness  # noqa: E402

LR, MOMENTUM = 0.01, 0.9
MNIST_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")


def _idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load(name: str, n: int = 10_000):
    """(x float32 (N, 1, 28, 28) in [0, 1], y int64) of a data set, or None if absent."""
    files = {"mnist-test": (MNIST_DIR, "t10k"), "fashion": (FASHION_DIR, "train")}
    if name == "random":
        rng = np.random.default_rng(0)
        return rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n)
    folder, prefix = files[name]
    images = folder / f"{prefix}-images-idx3-ubyte.gz"
    labels = folder / f"{prefix}-labels-idx1-ubyte.gz"
    if not images.exists():
        return None
    x = _idx(images)[:n].astype(np.float32) / np.float32(255)
    return x.reshape(-1, 1, 28, 28), _idx(labels)[:n].astype(np.int64)


def orders(n: int, epochs: int):
    """The permutations deepnum.data.DataLoader(shuffle=True, seed=0) draws, epoch by epoch (read
    from such a loader, so the loops see exactly the Trainer's batches)."""
    from deepnum.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(np.arange(n)), batch_size=n, shuffle=True, seed=0)
    return [next(iter(loader))[0].numpy() for _ in range(epochs)]


def _models(name: str):
    if name == "mlp":
        from benchmarks import mlp as family
    else:
        from benchmarks import lenet as family
    ours = family.deepnum_model()
    theirs = family.torch_model(ours) if name == "lenet" else family.torch_model(
        family.weights_of(ours))
    return ours, theirs


def deepnum_loop(model, x, y, batch, perms, flatten):
    import deepnum as dn
    from deepnum import nn

    opt = dn.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    wrap = dn.Tensor._wrap
    data = x.reshape(len(x), -1) if flatten else x

    def epoch(e: int) -> None:
        order = perms[e]
        for i in range(0, len(order), batch):
            index = order[i:i + batch]
            opt.zero_grad()
            loss_fn(model(wrap(data[index])), y[index]).backward()
            opt.step()

    return epoch


def deepnum_trainer(model, x, y, batch, perms, flatten):
    import deepnum as dn
    from deepnum.data import DataLoader, TensorDataset
    from deepnum.train import Trainer

    data = x.reshape(len(x), -1) if flatten else x
    # the default metrics (accuracy), as a user's run computes them
    trainer = Trainer(model, optimizer=dn.optim.SGD(model.parameters(), lr=LR,
                                                   momentum=MOMENTUM))
    loader = DataLoader(TensorDataset(data, y), batch_size=batch, shuffle=True, seed=0)

    def epoch(e: int) -> None:
        trainer.fit(loader, epochs=e + 1, verbose=0)  # one more epoch on the same loader

    return epoch


def torch_loop(model, x, y, batch, perms, flatten):
    import torch

    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = torch.nn.CrossEntropyLoss()
    data = torch.from_numpy(x.reshape(len(x), -1) if flatten else x)
    labels = torch.from_numpy(y)
    index_perms = [torch.from_numpy(p) for p in perms]

    def epoch(e: int) -> None:
        order = index_perms[e]
        for i in range(0, len(order), batch):
            index = order[i:i + batch]
            opt.zero_grad()
            loss_fn(model(data[index]), labels[index]).backward()
            opt.step()

    return epoch


CONTENDERS = {"deepnum": deepnum_loop, "deepnum-trainer": deepnum_trainer, "pytorch": torch_loop}


def run(model_name: str, data_name: str, batch: int, epochs: int) -> dict | None:
    data = load(data_name)
    if data is None:
        return None
    x, y = data
    perms = orders(len(x), epochs)
    epochs_of = {}
    for name, make in CONTENDERS.items():
        ours, theirs = _models(model_name)
        epochs_of[name] = make(theirs if name == "pytorch" else ours, x, y, batch, perms,
                               model_name == "mlp")
    times = {name: [] for name in CONTENDERS}
    for e in range(epochs):  # interleaved: every contender runs epoch e under the same load
        for name, epoch in epochs_of.items():
            start = time.perf_counter()
            epoch(e)
            times[name].append(time.perf_counter() - start)
    medians = {name: float(np.median(t)) for name, t in times.items()}
    return {"model": model_name, "data": data_name, "batch": batch, "epochs": epochs,
            "seconds_per_epoch": {k: [round(v, 4) for v in t] for k, t in times.items()},
            "median_s": medians,
            "ratio_vs_pytorch": {k: round(v / medians["pytorch"], 3) for k, v in medians.items()
                                 if k != "pytorch"},
            "trainer_overhead": round(medians["deepnum-trainer"] / medians["deepnum"] - 1, 3),
            "load": harness.load_average()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="mlp,lenet")
    parser.add_argument("--data", default="mnist-test,fashion,random")
    parser.add_argument("--batches", default="32,64,128")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    facts = harness.set_threads(args.threads)
    print(f"threads {args.threads}; {facts}", flush=True)
    print("model | data | batch | deepnum/pytorch | trainer/pytorch | Trainer.fit overhead | "
          "pytorch s/epoch (first, last) | deepnum s/epoch (first, last) | load")
    print("--- | --- | --- | --- | --- | --- | --- | --- | ---")
    rows = []
    for model in args.models.split(","):
        for data in args.data.split(","):
            for batch in (int(b) for b in args.batches.split(",")):
                row = run(model, data, batch, args.epochs)
                if row is None:
                    print(f"{model} | {data} | {batch} | (data absent)")
                    continue
                rows.append(row)
                s = row["seconds_per_epoch"]
                print(f"{model} | {data} | {batch} | {row['ratio_vs_pytorch']['deepnum']:.3f} | "
                      f"{row['ratio_vs_pytorch']['deepnum-trainer']:.3f} | "
                      f"{row['trainer_overhead']:+.1%} | "
                      f"{row['median_s']['pytorch']:.3f} ({s['pytorch'][0]:.3f}, "
                      f"{s['pytorch'][-1]:.3f}) | {row['median_s']['deepnum']:.3f} "
                      f"({s['deepnum'][0]:.3f}, {s['deepnum'][-1]:.3f}) | "
                      f"{row['load'][0]:.2f}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"threads": args.threads, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
