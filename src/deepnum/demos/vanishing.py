"""Demo: vanishing gradients. Ten sigmoid layers shrink the layer-1 delta by orders of magnitude;
ReLU with He initialisation keeps it.

Backpropagation multiplies by sigma'(z^l) at every layer:

    delta^l = sigma'(z^l) * (W^{l+1})^T delta^{l+1},
    so  ||delta^l|| <= max sigma' * ||W^{l+1}||_2 * ||delta^{l+1}||

and the sigmoid's derivative is at most 1/4, so nine such steps take delta^1 down by up to
4^9 ~ 2.6e5 unless the weights are large. ReLU's derivative is 1 wherever the unit is active,
so the weights alone decide: He initialisation (Var w = 2 / fan_in) keeps ||delta^l|| level,
while PyTorch's default (Var w = 1 / (3 fan_in)) still shrinks it. Xavier initialisation cannot
rescue the sigmoid, whose 1/4 stays. The demo measures every delta with ``backprop_trace`` on the
8x8 digits, checks the bound layer by layer, and trains each network to show the consequence:
the sigmoid network's first layer hardly moves.
"""

from __future__ import annotations

import numpy as np

import deepnum as dn
import deepnum.nn as nn
from deepnum.demos._train import accuracy, fit
from deepnum.demos.context import pyplot
from deepnum.demos.registry import demo
from deepnum.train.trace import backprop_trace

DEPTH, WIDTH = 10, 64  # ten Linear layers: 64 -> 64 (x9) -> 10
CONFIGS = {  # name: (activation, initialisation, largest derivative of the activation)
    "sigmoid, default init": (nn.Sigmoid, "default", 0.25),
    "sigmoid, Xavier init": (nn.Sigmoid, "xavier", 0.25),
    "ReLU, default init": (nn.ReLU, "default", 1.0),
    "ReLU, He init": (nn.ReLU, "he", 1.0),
}


def network(activation, init: str, seed: int = 0) -> nn.Sequential:
    """Ten Linear layers with ``activation`` between them, initialised as ``init`` says
    (default: PyTorch's U(-1/sqrt(fan_in), 1/sqrt(fan_in)); xavier: Glorot normal; he: Kaiming
    normal for ReLU; biases 0 for the last two)."""
    dn.manual_seed(seed)
    layers, fan_in = [], 64
    for i in range(DEPTH):
        linear = nn.Linear(fan_in, WIDTH if i < DEPTH - 1 else 10)
        if init == "xavier":
            nn.init.xavier_normal_(linear.weight)
            nn.init.zeros_(linear.bias)
        elif init == "he":
            nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            nn.init.zeros_(linear.bias)
        layers.append(linear)
        if i < DEPTH - 1:
            layers.append(activation())
        fan_in = WIDTH
    return nn.Sequential(*layers)


def layer_deltas(model, x, y) -> tuple[list[float], list[float]]:
    """||delta^l|| for l = 1..10 and the bound factors max sigma' * ||W^{l+1}||_2."""
    trace = backprop_trace(model, x, y)
    deltas = [r.delta_norm for r in trace.rows if r.symbol.startswith("z")]
    spectral = [float(np.linalg.norm(m.weight.array.astype(np.float64), 2))
                for m in model if isinstance(m, nn.Linear)]
    return deltas, spectral


@demo("vanishing", "vanishing gradients: 10 sigmoid layers shrink delta^1; ReLU + He keeps it")
def run(ctx) -> None:
    data = dn.data.load_dataset("digits")
    x = data.x_train.reshape(len(data.x_train), -1).astype(np.float32)
    y = data.y_train
    x_test = data.x_test.reshape(len(data.x_test), -1).astype(np.float32)
    probe = 64 if ctx.fast else 256
    epochs = 3 if ctx.fast else 10
    if ctx.fast:
        x, y = x[:600], y[:600]
    rows, deltas, curves, bounds_hold = [], {}, {}, {}
    for name, (activation, init, peak) in CONFIGS.items():
        model = network(activation, init)
        norms, spectral = layer_deltas(model, x[:probe], y[:probe])
        deltas[name] = norms
        # the recursion's bound, one layer at a time: ||d^l|| <= peak * ||W^{l+1}|| * ||d^{l+1}||
        bounds_hold[name] = all(norms[l] <= peak * spectral[l + 1] * norms[l + 1] * (1 + 1e-6)
                                for l in range(DEPTH - 1))
        w1 = model[0].weight.array.copy()
        curves[name] = fit(model, x, y, epochs=epochs, lr=0.01, batch_size=32)
        moved = float(np.linalg.norm(model[0].weight.array - w1) / np.linalg.norm(w1))
        rows.append({"network": name, "delta1_over_delta10": norms[0] / norms[-1],
                     "shrink_per_layer": (norms[0] / norms[-1]) ** (1 / (DEPTH - 1)),
                     "W1_relative_change": moved, "final_loss": curves[name][-1],
                     "test_accuracy": accuracy(model, x_test, data.y_test)})
    ctx.table(rows, "vanishing", f"Ten Linear layers of width {WIDTH} on the 8x8 digits: "
                                 f"||delta^1|| / ||delta^10|| at initialisation on {probe} "
                                 f"images, then {epochs} epochs of SGD (lr 0.01, momentum 0.9)")

    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    for name, norms in deltas.items():
        left.semilogy(range(1, DEPTH + 1), norms, "o-", ms=4, label=name)
        right.plot(range(1, len(curves[name]) + 1), curves[name], "o-", ms=3, label=name)
    left.set_xlabel("layer l")
    left.set_ylabel(r"$\|\delta^l\| = \|\partial L / \partial z^l\|$")
    left.set_xticks(range(1, DEPTH + 1))
    left.set_title(r"$\delta^l$ at initialisation, layer by layer", fontsize=9)
    right.set_xlabel("epoch")
    right.set_ylabel("training loss")
    right.set_title("what follows in training", fontsize=9)
    for ax in (left, right):
        ax.legend(fontsize=7)
    ctx.figure(fig, "vanishing", "Left: ||delta^l|| of each layer of the same 10-layer network "
                                 "with four activation/initialisation choices. Right: training "
                                 "loss per epoch.")

    by = {r["network"]: r for r in rows}
    sig, sig_x = by["sigmoid, default init"], by["sigmoid, Xavier init"]
    relu, he = by["ReLU, default init"], by["ReLU, He init"]
    ctx.say(f"With ten sigmoid layers, ||delta^1|| is {sig['delta1_over_delta10']:.1e} of "
            f"||delta^10|| (a factor {sig['shrink_per_layer']:.2f} per layer; "
            f"{sig_x['delta1_over_delta10']:.1e} with Xavier initialisation): sigma' <= 1/4 at "
            f"every layer. ReLU with He initialisation keeps it at "
            f"{he['delta1_over_delta10']:.2f}; ReLU with the default initialisation still "
            f"shrinks it to {relu['delta1_over_delta10']:.1e}. After {epochs} epochs the "
            f"sigmoid network's W^1 moved by {sig['W1_relative_change']:.0e} of its size, the "
            f"ReLU + He network's by {he['W1_relative_change']:.2f} (test accuracy "
            f"{sig['test_accuracy']:.2f} vs {he['test_accuracy']:.2f}).")
    ctx.check("sigmoid: delta^1 is orders of magnitude below delta^10 (< 1e-3 of it)",
              sig["delta1_over_delta10"] < 1e-3 and sig_x["delta1_over_delta10"] < 1e-3,
              f"{sig['delta1_over_delta10']:.2e} (default init), "
              f"{sig_x['delta1_over_delta10']:.2e} (Xavier)")
    ctx.check("ReLU + He init: delta^1 within 10x of delta^10",
              0.1 < he["delta1_over_delta10"] < 10, f"{he['delta1_over_delta10']:.3f}")
    ctx.check("every layer obeys ||delta^l|| <= max sigma' * ||W^(l+1)||_2 * ||delta^(l+1)||",
              all(bounds_hold.values()),
              ", ".join(f"{k}: {'yes' if v else 'NO'}" for k, v in bounds_hold.items()))
    ctx.check("in training, the sigmoid network's first layer barely moves, ReLU + He's does",
              sig["W1_relative_change"] < 1e-3 < 1e-2 < he["W1_relative_change"],
              f"relative change of W^1: {sig['W1_relative_change']:.1e} (sigmoid) vs "
              f"{he['W1_relative_change']:.1e} (ReLU + He)")
