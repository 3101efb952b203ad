"""Demo 1: a single neuron z = w.x + b with a sigmoid is a linear classifier, and it needs its bias.

The lecture: y = sigma(z) >= 0.5 exactly when z >= 0, so the neuron predicts one class on each side
of the line w.x + b = 0. Without b that line must pass through the origin; data whose classes lie
along one ray from the origin cannot be split by any such line.
"""

from __future__ import annotations

import numpy as np

import deepnum as dn
import deepnum.nn as nn
from deepnum.demos._train import boundary
from deepnum.demos.context import pyplot
from deepnum.demos.registry import demo


def _data(n: int, seed: int = 0):
    """Two Gaussian blobs on the ray through (1, 1): near the origin (class 0) and farther (1)."""
    rng = np.random.default_rng(seed)
    half = n // 2
    x = np.concatenate([rng.normal((1.0, 1.0), 0.5, (half, 2)),
                        rng.normal((3.5, 3.5), 0.5, (n - half, 2))]).astype(np.float32)
    y = np.repeat([0, 1], [half, n - half]).astype(np.int64)
    return x, y


def _train_neuron(x, y, bias: bool, steps: int):
    """One neuron, sigmoid output, binary cross-entropy, full-batch gradient descent."""
    neuron = nn.Linear(2, 1, bias=bias)
    opt = dn.optim.SGD(neuron.parameters(), lr=0.5, momentum=0.9)
    xt, t = dn.Tensor(x), dn.Tensor(y[:, None].astype(np.float32))
    for _ in range(steps):
        p = dn.nn.functional.sigmoid(neuron(xt)).clip(1e-7, 1 - 1e-7)
        loss = -(t * p.log() + (1 - t) * (1 - p).log()).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return neuron, loss.item()


@demo("neuron", "a single sigmoid neuron is a linear classifier, and it needs its bias")
def run(ctx) -> None:
    x, y = _data(200 if ctx.fast else 400)
    steps = 150 if ctx.fast else 400
    results = {}
    for bias in (True, False):
        neuron, loss = _train_neuron(x, y, bias, steps)
        with dn.no_grad():
            z = neuron(dn.Tensor(x)).array[:, 0]
            sig = dn.nn.functional.sigmoid(dn.Tensor(z)).array
        results[bias] = dict(neuron=neuron, loss=loss, acc=float(((sig >= 0.5) == y).mean()),
                             linear=bool(np.array_equal(sig >= 0.5, z >= 0)))

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    for ax, bias in zip(axes, (True, False)):
        neuron = results[bias]["neuron"]

        def classes(points, neuron=neuron):
            with dn.no_grad():
                return (neuron(dn.Tensor(points)).array[:, 0] >= 0).astype(int)

        label = "with bias b" if bias else "bias fixed at 0"
        boundary(ax, classes, x, y, f"{label}: accuracy {results[bias]['acc']:.2f}")
        w = neuron.weight.array[0]
        b = neuron.bias.array[0] if bias else 0.0
        xs = np.linspace(x[:, 0].min() - 0.5, x[:, 0].max() + 0.5, 2)
        if abs(w[1]) > 1e-12:
            ax.plot(xs, -(w[0] * xs + b) / w[1], "k-", lw=1.5, label="w.x + b = 0")
        ax.plot([0], [0], "k+", ms=10)
        ax.legend(loc="upper left", fontsize=8)
    ctx.figure(fig, "boundary", "The trained neuron's decision regions and its line w.x + b = 0 (+ "
                                "marks the origin). Without a bias the line must pass through it.")

    rows = [dict(model="sigmoid neuron, with bias", train_accuracy=results[True]["acc"],
                 final_loss=results[True]["loss"]),
            dict(model="sigmoid neuron, bias = 0", train_accuracy=results[False]["acc"],
                 final_loss=results[False]["loss"])]
    ctx.table(rows, "accuracy", "Accuracy of one neuron on the two blobs")
    ctx.say(f"One sigmoid neuron separates the two blobs with accuracy {results[True]['acc']:.2f}; "
            f"its prediction sigma(z) >= 0.5 is exactly z = w.x + b >= 0, a line. With the bias "
            f"fixed at 0 the line must pass through the origin and accuracy falls to "
            f"{results[False]['acc']:.2f}.")
    ctx.check("sigma(z) >= 0.5 exactly where z >= 0 (a linear classifier)",
              results[True]["linear"] and results[False]["linear"], "on every training point")
    ctx.check("with a bias the neuron separates the blobs", results[True]["acc"] >= 0.95,
              f"accuracy {results[True]['acc']:.3f} >= 0.95")
    ctx.check("without a bias it cannot", results[False]["acc"] <= 0.75,
              f"accuracy {results[False]['acc']:.3f} <= 0.75")
