"""Train LeNet-5 on Fashion-MNIST (or on 80% of the real MNIST test digits) and print test accuracy.

    python examples/lenet5_fashion.py                       # Fashion-MNIST, 60,000 / 10,000
    python examples/lenet5_fashion.py --data mnist          # MNIST test digits, 8,000 / 2,000
    python examples/lenet5_fashion.py --fast                # a few hundred images, seconds

SGD with Nesterov momentum 0.9, batch 128, a cosine learning-rate decay and a little weight decay;
images standardised with the training set's mean and standard deviation. ``--shift 2`` moves every
training image by a random whole number of pixels in [-2, 2] (the held-out images never move).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import deepnum as dn  # noqa: E402
from deepnum import nn  # noqa: E402
from deepnum.models import build  # noqa: E402


def load(data: str, seed: int):
    """(x_train, y_train, x_test, y_test): float32 (N, 1, 28, 28) in [0, 1] and int64 labels."""
    if data == "fashion":
        from deepnum.data import load_fashion_mnist

        x_train, y_train = load_fashion_mnist("train", normalize=True)
        x_test, y_test = load_fashion_mnist("test", normalize=True)
    else:  # the 10,000 real MNIST test digits, split 80/20 with a seeded shuffle
        from _common import load_mnist_test, split_80_20

        x, y = load_mnist_test()
        train, test = split_80_20(len(x), seed)
        x_train, y_train, x_test, y_test = x[train], y[train], x[test], y[test]
    as_images = lambda a: np.ascontiguousarray(a, dtype=np.float32).reshape(-1, 1, 28, 28)  # noqa: E731
    return (as_images(x_train), np.asarray(y_train, dtype=np.int64),
            as_images(x_test), np.asarray(y_test, dtype=np.int64))


def random_shift(x: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Translate each image by (dy, dx) in [-max_shift, max_shift]^2, filling with the background:
    pad once, then pick each image's window with one fancy index (no loop over images)."""
    n, c, h, w = x.shape
    p = max_shift
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="edge")
    dy, dx = rng.integers(0, 2 * p + 1, size=(2, n))
    rows = dy[:, None] + np.arange(h)[None, :]          # (n, h)
    cols = dx[:, None] + np.arange(w)[None, :]          # (n, w)
    return padded[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None],
                  rows[:, None, :, None], cols[:, None, None, :]]


def accuracy(model, x: np.ndarray, y: np.ndarray, batch: int = 1000) -> float:
    model.eval()
    correct = 0
    with dn.no_grad():
        for i in range(0, len(x), batch):
            correct += int((model(dn.Tensor._wrap(x[i:i + batch])).numpy().argmax(1)
                            == y[i:i + batch]).sum())
    model.train()
    return correct / len(x)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", choices=("fashion", "mnist"), default="fashion")
    p.add_argument("--epochs", type=int, default=None, help="default 15 (fashion), 40 (mnist)")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--shift", type=int, default=None, help="default 0 (fashion), 2 (mnist)")
    p.add_argument("--activation", choices=("relu", "tanh"), default="relu")
    p.add_argument("--pooling", choices=("max", "avg"), default="max")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fast", action="store_true", help="512 training images, 1 epoch")
    args = p.parse_args(argv)
    epochs = args.epochs or (15 if args.data == "fashion" else 40)
    shift = args.shift if args.shift is not None else (0 if args.data == "fashion" else 2)

    dn.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x_train, y_train, x_test, y_test = load(args.data, args.seed)
    if args.fast:
        x_train, y_train, x_test, y_test = x_train[:512], y_train[:512], x_test[:256], y_test[:256]
        epochs = 1
    mean, std = float(x_train.mean()), float(x_train.std())
    x_train, x_test = (x_train - mean) / std, (x_test - mean) / std

    model = build("lenet5", num_classes=10, activation=args.activation, pooling=args.pooling)
    opt = dn.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, nesterov=True,
                       weight_decay=args.weight_decay)
    loss_fn = nn.CrossEntropyLoss()
    steps_per_epoch = math.ceil(len(x_train) / args.batch_size)
    total_steps, step = epochs * steps_per_epoch, 0
    print(f"LeNet-5 ({model.num_parameters():,} parameters, {args.activation}, {args.pooling} "
          f"pooling) on {args.data}: {len(x_train):,} training / {len(x_test):,} test images, "
          f"{epochs} epochs")
    start = time.perf_counter()
    for epoch in range(epochs):
        t0 = time.perf_counter()
        order = rng.permutation(len(x_train))
        xs = random_shift(x_train, shift, rng) if shift else x_train
        total = 0.0
        for i in range(0, len(order), args.batch_size):
            idx = order[i:i + args.batch_size]
            for group in opt.param_groups:  # cosine decay from lr to 0 over the whole run
                group["lr"] = 0.5 * args.lr * (1 + math.cos(math.pi * step / total_steps))
            opt.zero_grad()
            loss = loss_fn(model(dn.Tensor._wrap(xs[idx])), dn.Tensor._wrap(y_train[idx]))
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            step += 1
        test_acc = accuracy(model, x_test, y_test)
        print(f"epoch {epoch + 1:3d}  loss {total / len(order):.4f}  test accuracy "
              f"{test_acc:.4f}  ({time.perf_counter() - t0:.1f} s)", flush=True)
    seconds = time.perf_counter() - start
    result = {"data": args.data, "epochs": epochs, "test_accuracy": test_acc,
              "train_seconds": round(seconds, 1), "seconds_per_epoch": round(seconds / epochs, 1)}
    print(f"test accuracy {test_acc:.4f} after {epochs} epochs, {seconds:.0f} s "
          f"({seconds / epochs:.1f} s per epoch)")
    return result


if __name__ == "__main__":
    main()
