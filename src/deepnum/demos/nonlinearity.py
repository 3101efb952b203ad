"""Demo 5: without non-linearity a deep network is one linear map; with it, it fits the spiral.

W3 (W2 (W1 x + b1) + b2) + b3 = W x + b with W = W3 W2 W1 and b = W3 (W2 b1 + b2) + b3: the demo
trains a three-layer network with no activation, multiplies its weights out, and checks that the
single map gives the same outputs; its decision boundary is a straight line. The same network with
tanh between the layers fits the two interleaved spirals.
"""

from __future__ import annotations

import numpy as np

import deepnum as dn
from deepnum.demos._train import accuracy, boundary, fit, mlp, predict
from deepnum.demos.context import pyplot
from deepnum.demos.registry import demo


def spiral(n: int, seed: int = 0):
    x, y = dn.data.make_spiral(n=n, noise=0.0, seed=seed, num_classes=2)
    return (x / 2).astype(np.float32), y  # the Playground's square [-6, 6] scaled to [-3, 3]


@demo("nonlinearity", "without non-linearity W3 W2 W1 = W, one linear map; with it the spiral fits")
def run(ctx) -> None:
    x, y = spiral(200 if ctx.fast else 400)
    epochs = 500 if ctx.fast else 1500
    sizes = (2, 32, 32, 2)
    dn.manual_seed(0)
    linear = mlp(sizes, activation=None, dtype=np.float64)
    fit(linear, x.astype(np.float64), y, epochs=epochs // 4, lr=0.05)
    dn.manual_seed(0)
    deep = mlp(sizes, activation=dn.nn.Tanh)
    losses = fit(deep, x, y, epochs=epochs, lr=0.3)

    w1, w2, w3 = (layer.weight.array for layer in (linear[0], linear[1], linear[2]))
    b1, b2, b3 = (layer.bias.array for layer in (linear[0], linear[1], linear[2]))
    w = w3 @ w2 @ w1  # (2, 2): the whole network is this one matrix ...
    b = w3 @ (w2 @ b1 + b2) + b3  # ... plus this offset
    probe = np.random.default_rng(1).uniform(-3, 3, (1000, 2))
    gap = float(np.max(np.abs(predict(linear, probe) - (probe @ w.T + b))))
    scale = float(np.max(np.abs(probe @ w.T + b)))
    linear_acc, deep_acc = accuracy(linear, x.astype(np.float64), y), accuracy(deep, x, y)

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))
    boundary(axes[0], lambda p: predict(linear, p.astype(np.float64)).argmax(1), x, y,
             f"no activation (= one linear map): accuracy {linear_acc:.2f}")
    boundary(axes[1], lambda p: predict(deep, p).argmax(1), x, y,
             f"tanh between the layers: accuracy {deep_acc:.2f}")
    ctx.figure(fig, "spiral", "The same 2-32-32-2 network without and with a non-linearity, "
                              "trained on the two-arm spiral.")
    rows = [dict(network="2-32-32-2, no activation", train_accuracy=linear_acc,
                 max_gap_to_single_map=gap),
            dict(network="2-32-32-2, tanh", train_accuracy=deep_acc,
                 max_gap_to_single_map="n/a (not linear)")]
    ctx.table(rows, "nonlinearity", "Training accuracy on the spiral")
    ctx.table([{"row": i, "W_col0": w[i, 0], "W_col1": w[i, 1], "b": b[i]} for i in range(2)],
              "single_map", "W = W3 W2 W1 and b of the trained linear network")
    ctx.say(f"Without activations the 3-layer network equals the single map W = W3 W2 W1 (outputs "
            f"agree to {gap:.1e}) and reaches only {linear_acc:.2f} on the spiral; with tanh it "
            f"reaches {deep_acc:.2f}.")
    ctx.check("W3 W2 W1 x + b reproduces the linear network", gap <= 1e-9 * max(scale, 1.0),
              f"max |difference| {gap:.1e} on 1000 random points (outputs up to {scale:.2f})")
    ctx.check("a linear map cannot fit the spiral", linear_acc <= 0.75,
              f"accuracy {linear_acc:.3f} <= 0.75")
    ctx.check("with tanh the network fits the spiral", deep_acc >= 0.95,
              f"accuracy {deep_acc:.3f} >= 0.95 (final loss {losses[-1]:.3f})")
