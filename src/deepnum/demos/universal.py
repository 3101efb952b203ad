"""Demo 6: one hidden layer approximates a 1-D function better as it widens (a universal
approximator).

Hornik, Stinchcombe & White (1989): one hidden layer of squashing units approximates any reasonable
function to any accuracy, given enough units. The demo trains y = W2 tanh(W1 x + b1) + b2 of growing
width on sin(2x), a rectangular pulse (two steps) and |x| over [-pi, pi], and plots the error
against the width. The theorem says the error *can* be made small; training has to find the weights,
so the check asks for a clear downward trend, not a perfectly monotone curve.
"""

from __future__ import annotations

import numpy as np

import deepnum as dn
from deepnum.demos._train import fit, mlp, predict
from deepnum.demos.context import pyplot
from deepnum.demos.registry import demo

TARGETS = {
    "sin(2x)": lambda x: np.sin(2 * x),
    "pulse (step up at -1, down at 1)": lambda x: (np.abs(x) < 1).astype(np.float32),
    "|x|": np.abs,
}


def _spearman(a, b) -> float:
    """Rank correlation: -1 when b falls whenever a rises."""
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1])


@demo("universal", "one hidden layer approximates sin, a step and |x| better as it widens")
def run(ctx) -> None:
    widths = (1, 4, 16) if ctx.fast else (1, 2, 4, 8, 16, 32)
    epochs = 300 if ctx.fast else 1500
    x = np.linspace(-np.pi, np.pi, 100 if ctx.fast else 200, dtype=np.float32)[:, None]
    rows, fits = [], {}
    for name, f in TARGETS.items():
        y = f(x).astype(np.float32)
        for width in widths:
            dn.manual_seed(0)
            model = mlp((1, width, 1), activation=dn.nn.Tanh)
            fit(model, x, y, epochs=epochs, lr=0.02, loss="mse", optimizer="adam")
            out = predict(model, x)
            rows.append(dict(function=name, width=width, parameters=model.num_parameters(),
                             mse=float(np.mean((out - y) ** 2))))
            fits[name, width] = out[:, 0]

    plt = pyplot()
    fig, axes = plt.subplots(1, len(TARGETS) + 1, figsize=(4 * (len(TARGETS) + 1), 3.6))
    for ax, name in zip(axes, TARGETS):
        ax.plot(x[:, 0], TARGETS[name](x[:, 0]), "k-", lw=2, label="target")
        for width in widths:
            ax.plot(x[:, 0], fits[name, width], lw=1, label=f"width {width}")
        ax.set_title(name, fontsize=9)
    axes[0].legend(fontsize=7)
    for name in TARGETS:
        errors = [r["mse"] for r in rows if r["function"] == name]
        axes[-1].loglog(widths, errors, "o-", label=name)
    axes[-1].set_xlabel("hidden units")
    axes[-1].set_ylabel("mean squared error")
    axes[-1].legend(fontsize=7)
    axes[-1].set_title("error vs width", fontsize=9)
    ctx.figure(fig, "universal", "One-hidden-layer tanh networks of growing width fitted to three "
                                 "functions (Adam, full batch), and their error against the width.")
    ctx.table(rows, "error_vs_width", "Mean squared error of each fit")
    parts = []
    for name in TARGETS:
        errors = [r["mse"] for r in rows if r["function"] == name]
        rho = _spearman(widths, errors)
        parts.append(f"{name}: {errors[0]:.3g} -> {errors[-1]:.3g}")
        ctx.check(f"{name}: the widest network is 5x better than one unit",
                  errors[-1] <= errors[0] / 5, f"MSE {errors[-1]:.2e} <= {errors[0]:.2e} / 5")
        ctx.check(f"{name}: error falls with width", rho <= -0.6,
                  f"rank correlation of width and error {rho:.2f} <= -0.6")
    ctx.say(f"From width {widths[0]} to {widths[-1]} the error falls ({'; '.join(parts)}): one "
            f"hidden layer approximates each function better as it widens.")
