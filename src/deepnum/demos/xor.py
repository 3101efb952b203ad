"""Demo 3: one hidden layer solves XOR, by moving the points to new coordinates where a line works.

The hidden layer h = tanh(W1 x + b1) maps the four XOR points to new coordinates; the output layer
is a single linear classifier on h. The demo trains a 2-2-1 network and then shows that a perceptron
(which fails on XOR itself, demo 2) separates the hidden coordinates.
"""

from __future__ import annotations

import numpy as np

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from deepnum.demos._train import boundary
from deepnum.demos.context import pyplot
from deepnum.demos.perceptron import perceptron
from deepnum.demos.registry import demo

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], dtype=np.float32)
XOR_T = np.array([0.0, 1.0, 1.0, 0.0], dtype=np.float32)


def train_xor(seed: int, steps: int):
    """A 2-2-1 tanh/sigmoid network on the four XOR points with squared error, as in 1986."""
    dn.manual_seed(seed)
    hidden, out = nn.Linear(2, 2), nn.Linear(2, 1)
    params = list(hidden.parameters()) + list(out.parameters())
    opt = dn.optim.SGD(params, lr=0.5, momentum=0.9)
    x, t = dn.Tensor(XOR_X), dn.Tensor(XOR_T[:, None])
    for _ in range(steps):
        y = F.sigmoid(out(F.tanh(hidden(x))))
        loss = F.mse_loss(y, t)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return hidden, out, loss.item()


@demo("xor", "one hidden layer solves XOR; its hidden units are new coordinates where a line works")
def run(ctx) -> None:
    steps = 600 if ctx.fast else 2000
    # A 2-unit hidden layer can stall in a poor minimum from some starts; try seeds in order and say
    # how many it took, rather than hide it.
    attempts = []
    for seed in range(10):
        hidden, out, loss = train_xor(seed, steps)
        with dn.no_grad():
            h = F.tanh(hidden(dn.Tensor(XOR_X))).array
            y = F.sigmoid(out(dn.Tensor(h))).array[:, 0]
        correct = int(((y >= 0.5) == (XOR_T == 1)).sum())
        attempts.append(dict(seed=seed, final_mse=loss, correct_of_4=correct))
        if correct == 4:
            break
    _, _, hidden_mistakes = perceptron(h.astype(np.float64), XOR_T.astype(np.float64), 1000)

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 4))

    def predict(points):
        with dn.no_grad():
            return (out(F.tanh(hidden(dn.Tensor(points)))).array[:, 0] >= 0).astype(int)

    boundary(axes[0], predict, XOR_X, XOR_T.astype(int), "input space x: the network's regions")
    for (a, b), label in zip(XOR_X, ("(0,0)", "(0,1)", "(1,0)", "(1,1)")):
        axes[0].annotate(label, (a, b), textcoords="offset points", xytext=(6, 6), fontsize=8)
    w, b = out.weight.array[0], out.bias.array[0]
    axes[1].scatter(h[:, 0], h[:, 1], c=XOR_T, cmap="coolwarm", s=120, edgecolors="k")
    for (a, b_), label in zip(h, ("(0,0)", "(0,1)", "(1,0)", "(1,1)")):
        axes[1].annotate(label, (a, b_), textcoords="offset points", xytext=(6, 6), fontsize=8)
    xs = np.linspace(-1.1, 1.1, 2)
    if abs(w[1]) > 1e-12:
        axes[1].plot(xs, -(w[0] * xs + b) / w[1], "k-", label="output unit's line")
    axes[1].set_xlim(-1.1, 1.1)
    axes[1].set_ylim(-1.1, 1.1)
    axes[1].set_xlabel("hidden unit 1")
    axes[1].set_ylabel("hidden unit 2")
    axes[1].legend(fontsize=8)
    axes[1].set_title("hidden space h = tanh(W1 x + b1): now linearly separable", fontsize=9)
    ctx.figure(fig, "xor", "Left: XOR in the input space, solved by the 2-2-1 network. Right: the "
                           "same four points in the hidden layer's coordinates, split by one line.")
    rows = [dict(x1=int(p[0]), x2=int(p[1]), target=int(t), h1=float(hh[0]), h2=float(hh[1]),
                 output=float(o)) for p, t, hh, o in zip(XOR_X, XOR_T, h, y)]
    ctx.table(rows, "hidden_coordinates", "The XOR points, their hidden coordinates and the output")
    ctx.table(attempts, "attempts", "Training runs (seeds tried in order until one solved XOR)")
    ctx.say(f"A 2-2-1 network (tanh hidden, sigmoid output) solves XOR (seed "
            f"{attempts[-1]['seed']}, MSE {attempts[-1]['final_mse']:.4f}); in its hidden "
            f"coordinates the perceptron rule separates the four points after "
            f"{len(hidden_mistakes)} epochs, where on the raw points it never can.")
    ctx.check("the network classifies all four XOR points", attempts[-1]["correct_of_4"] == 4,
              f"{attempts[-1]['correct_of_4']}/4 correct after {len(attempts)} seed(s)")
    ctx.check("the hidden coordinates are linearly separable", hidden_mistakes[-1] == 0,
              f"perceptron on h: {hidden_mistakes[-1]} mistakes in epoch {len(hidden_mistakes)}")
