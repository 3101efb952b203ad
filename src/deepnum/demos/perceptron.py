"""Demo 2: Rosenblatt's perceptron rule converges on linearly separable data, and never on XOR.

The rule (Rosenblatt 1958): predict y = step(w.x + b); on a mistake, w <- w + (t - y) x and
b <- b + (t - y). Novikoff's theorem bounds the number of mistakes on separable data by (R/gamma)^2,
R the largest |x| (with the constant 1 appended for the bias) and gamma the margin of a separating
line; the demo measures both sides. XOR has no separating line (Minsky & Papert), so every pass
over its four points makes at least one mistake, forever.
"""

from __future__ import annotations

import numpy as np

from deepnum.demos._train import boundary
from deepnum.demos.context import pyplot
from deepnum.demos.registry import demo


def perceptron(x: np.ndarray, t: np.ndarray, epochs: int):
    """Rosenblatt's rule with labels t in {0, 1}; returns (w, b, mistakes per epoch)."""
    w, b = np.zeros(x.shape[1]), 0.0
    mistakes = []
    for _ in range(epochs):
        count = 0
        for xi, ti in zip(x, t):
            y = 1.0 if xi @ w + b >= 0 else 0.0  # the unit step activation
            if y != ti:
                w += (ti - y) * xi
                b += ti - y
                count += 1
        mistakes.append(count)
        if count == 0:
            break
    return w, b, mistakes


def _separable(n: int, margin: float, seed: int = 0):
    """Points in [-1, 1]^2 labelled by the line x2 = 0.5 x1 + 0.2, minus those within ``margin``."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, (4 * n, 2))
    normal = np.array([-0.5, 1.0]) / np.hypot(0.5, 1.0)
    distance = (x @ normal) - 0.2 / np.hypot(0.5, 1.0)
    keep = np.abs(distance) >= margin
    return x[keep][:n], (distance[keep][:n] > 0).astype(float), margin


@demo("perceptron", "Rosenblatt's perceptron rule converges on separable data; on XOR it cannot")
def run(ctx) -> None:
    epochs = 100 if ctx.fast else 1000
    x, t, margin = _separable(100 if ctx.fast else 300, margin=0.1)
    w, b, mistakes = perceptron(x, t, epochs)
    radius = np.sqrt((x ** 2).sum(1) + 1).max()  # |(x, 1)|: the bias is a weight on a constant 1
    # Novikoff's gamma is the margin of a unit-norm (w, b); our true line's is margin / |(n, c)|.
    true_wb = np.array([-0.5, 1.0, -0.2]) / np.hypot(0.5, 1.0)
    gamma = margin / np.linalg.norm(true_wb)
    bound = (radius / gamma) ** 2
    total = sum(mistakes)

    xor_x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    xor_t = np.array([0.0, 1.0, 1.0, 0.0])
    _, _, xor_mistakes = perceptron(xor_x, xor_t, epochs)

    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    boundary(axes[0], lambda p: (p @ w + b >= 0).astype(int), x, t.astype(int),
             f"separable: converged after {len(mistakes)} epochs")
    axes[1].plot(range(1, len(mistakes) + 1), mistakes, "o-", label="separable data")
    axes[1].plot(range(1, len(xor_mistakes) + 1), xor_mistakes, "-", label="XOR")
    axes[1].set_xscale("log")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("mistakes in the epoch")
    axes[1].legend()
    axes[1].set_title("mistakes per pass over the data", fontsize=9)
    axes[2].scatter(xor_x[:, 0], xor_x[:, 1], c=xor_t, cmap="coolwarm", s=120, edgecolors="k")
    axes[2].set_title(f"XOR: still {xor_mistakes[-1]} mistake(s) in epoch {len(xor_mistakes)}",
                      fontsize=9)
    axes[2].set_xlim(-0.5, 1.5)
    axes[2].set_ylim(-0.5, 1.5)
    ctx.figure(fig, "perceptron", "Left: the perceptron's line after convergence. Middle: mistakes "
                                  "per epoch; XOR never reaches zero. Right: the XOR points.")
    rows = [dict(data="linearly separable", points=len(x), epochs_run=len(mistakes),
                 total_mistakes=total, novikoff_bound=round(bound, 1),
                 last_epoch_mistakes=mistakes[-1]),
            dict(data="XOR", points=4, epochs_run=len(xor_mistakes),
                 total_mistakes=sum(xor_mistakes), novikoff_bound="no separating line",
                 last_epoch_mistakes=xor_mistakes[-1])]
    ctx.table(rows, "perceptron", "Rosenblatt's rule on separable data and on XOR")
    ctx.say(f"On {len(x)} separable points the perceptron rule stops after {len(mistakes)} epochs "
            f"and {total} mistakes (Novikoff's bound: {bound:.0f}); on XOR it still makes "
            f"{min(xor_mistakes)}+ mistakes in every one of {len(xor_mistakes)} epochs.")
    ctx.check("the rule converges on separable data", mistakes[-1] == 0,
              f"{mistakes[-1]} mistakes in the last of {len(mistakes)} epochs")
    ctx.check("mistakes within Novikoff's bound (R/gamma)^2", total <= bound,
              f"{total} <= {bound:.1f}")
    ctx.check("on XOR every epoch has a mistake", min(xor_mistakes) >= 1,
              f"fewest mistakes in an epoch: {min(xor_mistakes)} over {len(xor_mistakes)} epochs")
