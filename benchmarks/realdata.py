"""Training as users train: real digits, a fresh shuffle every epoch, mini-batches gathered per
step, through a plain loop and through ``Trainer.fit``, with per-epoch times over a whole run,
next to PyTorch's on the same batches. Random images of the same shapes are kept for comparison
(they flatter whichever framework does not gain from what real data has: zeros, small values).

    python -m benchmarks.realdata                          # MLP and LeNet-5, batch 32/64/128
    python -m benchmarks.realdata --models lenet --batches 64 --epochs 15 --data mnist-test
    python -m benchmarks.realdata --cli --data none   # `deepnum train` against PyTorch only

All contenders start from the same weights and see the same batches (the permutation
``deepnum.data.DataLoader(shuffle=True, seed=0)`` draws each epoch), and run interleaved epoch
by epoch, so a slowdown that grows with training (denormal numbers in the momentum buffers,
activations that become sparse) shows in the per-epoch columns. Each runs with its defaults:
the plain loops with PyTorch's arithmetic, ``Trainer.fit`` flushing subnormal numbers to 0
(``flush_denormal``), so the "Trainer.fit overhead" column includes what that gains once
momentum buffers turn subnormal (``benchmarks.alternate --interleave step`` compares the two
with both flushing).
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


FILES = {"mnist-test": (MNIST_DIR, "t10k"), "fashion": (FASHION_DIR, "train")}
DATA_NAMES = (*FILES, "random")  # what --data takes (or "none")


def load(name: str, n: int = 10_000):
    """(x float32 (N, 1, 28, 28) in [0, 1], y int64) of a data set, or None if absent."""
    if name == "random":
        rng = np.random.default_rng(0)
        return rng.random((n, 1, 28, 28), dtype=np.float32), rng.integers(0, 10, n)
    folder, prefix = FILES[name]
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


def deepnum_step(model, x, y, flatten):
    """One plain-loop SGD step of ``model`` on the samples ``index`` of (x, y)."""
    import deepnum as dn
    from deepnum import nn

    opt = dn.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = nn.CrossEntropyLoss()
    wrap = dn.Tensor._wrap
    data = x.reshape(len(x), -1) if flatten else x

    def step(index) -> None:
        opt.zero_grad()
        loss_fn(model(wrap(data[index])), y[index]).backward()
        opt.step()

    return step


def deepnum_loop(model, x, y, batch, perms, flatten):
    step = deepnum_step(model, x, y, flatten)

    def epoch(e: int) -> None:
        order = perms[e]
        for i in range(0, len(order), batch):
            step(order[i:i + batch])

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


CLI_MODELS = {"mlp": ["--model", "mlp", "--hidden", "256,128", "--activation", "relu",
                      "--dropout", "0"], "lenet": ["--model", "lenet5"]}


def cli_seconds(model_name: str, batch: int, epochs: int, out: Path) -> tuple[float, int]:
    """(fit seconds, training samples) of one in-process ``deepnum train`` run on the MNIST test
    digits, with the settings of this benchmark's loops (SGD lr 0.01 momentum 0.9, no
    schedule, no augmentation, no validation split), checkpointing every epoch as it does."""
    from deepnum import cli

    argv = ["train", "--dataset", "mnist-test", "--data-dir", str(MNIST_DIR), *CLI_MODELS[
        model_name], "--optimizer", "sgd", "--lr", str(LR), "--momentum", str(MOMENTUM),
        "--lr-schedule", "none", "--augment", "none", "--val-fraction", "0", "--batch-size",
        str(batch), "--epochs", str(epochs), "--verbose", "0", "--out", str(out)]
    if cli.main(argv) != 0:
        raise RuntimeError(f"deepnum {' '.join(argv)} failed")
    metrics = json.loads((out / "metrics.json").read_text())
    return metrics["seconds"], metrics["train_samples"]


def run_cli(model_name: str, batch: int, epochs: int) -> dict:
    """``deepnum train``'s steady epoch, (seconds of an E-epoch run - a 1-epoch run) / (E - 1),
    so start-up and the first epoch's compiling drop out but the per-epoch checkpoint stays,
    against PyTorch's plain loop on as many MNIST test digits at the same batch size, whose
    epochs run before, between and after the two runs (the median of them)."""
    import tempfile

    x, y = load("mnist-test")
    with tempfile.TemporaryDirectory() as folder:
        _, n = cli_seconds(model_name, batch, 1, Path(folder) / "warm-up")  # and its sample count
        x, y = x[:n], y[:n]
        torch_epoch = torch_loop(_models(model_name)[1], x, y, batch, orders(n, 3 * epochs),
                                 model_name == "mlp")
        torch_times: list = []

        def torch_epochs() -> None:
            for _ in range(epochs):
                start = time.perf_counter()
                torch_epoch(len(torch_times))
                torch_times.append(time.perf_counter() - start)

        torch_epochs()
        one, _ = cli_seconds(model_name, batch, 1, Path(folder) / "one")
        torch_epochs()
        many, _ = cli_seconds(model_name, batch, epochs, Path(folder) / "many")
        torch_epochs()
    cli_epoch = (many - one) / (epochs - 1)
    pytorch = float(np.median(torch_times))
    return {"model": model_name, "batch": batch, "epochs": epochs, "train_samples": n,
            "deepnum_train_s": round(cli_epoch, 4), "pytorch_s": round(pytorch, 4),
            "ratio_vs_pytorch": round(cli_epoch / pytorch, 3), "load": harness.load_average()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="mlp,lenet")
    parser.add_argument("--data", default="mnist-test,fashion,random")
    parser.add_argument("--batches", default="32,64,128")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None)
    parser.add_argument("--cli", action="store_true",
                        help="also time `deepnum train` (MNIST test digits) against PyTorch")
    parser.add_argument("--flush-all", action="store_true",
                        help="every contender flushes subnormal numbers (this thread's FTZ/DAZ "
                             "bits, as torch.set_flush_denormal(True)), not only Trainer.fit")
    args = parser.parse_args(argv)
    unknown = set(args.data.split(",")) - {*DATA_NAMES, "none"}
    if unknown:
        parser.error(f"--data: unknown {', '.join(sorted(unknown))}; use "
                     f"{', '.join(DATA_NAMES)} (comma-separated) or none")
    facts = harness.set_threads(args.threads)
    if args.flush_all:
        import deepnum as dn  # the same two bits torch.set_flush_denormal sets; fit keeps them

        facts["flush_all"] = dn.set_flush_denormal(True)
    print(f"threads {args.threads}; {facts}", flush=True)
    cli_rows = []
    if args.cli:
        print("model | batch | deepnum train/pytorch | deepnum train s/epoch | pytorch s/epoch "
              "| load\n--- | --- | --- | --- | --- | ---")
        for model in args.models.split(","):
            for batch in (int(b) for b in args.batches.split(",")):
                row = run_cli(model, batch, max(args.epochs, 2))
                cli_rows.append(row)
                print(f"{model} | {batch} | {row['ratio_vs_pytorch']:.3f} | "
                      f"{row['deepnum_train_s']:.3f} | {row['pytorch_s']:.3f} | "
                      f"{row['load'][0]:.2f}", flush=True)
    print("model | data | batch | deepnum/pytorch | trainer/pytorch | Trainer.fit overhead | "
          "pytorch s/epoch (first, last) | deepnum s/epoch (first, last) | load")
    print("--- | --- | --- | --- | --- | --- | --- | --- | ---")
    rows = []
    for model in args.models.split(","):
        for data in [] if args.data == "none" else args.data.split(","):
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
        Path(args.json).write_text(json.dumps({"threads": args.threads, "rows": rows,
                                               "deepnum_train": cli_rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
