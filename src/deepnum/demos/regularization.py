"""Demo 11: L1 against L2 regularisation: L1 makes weights sparse, L2 shrinks them all.

Loss'(theta) = Loss(theta) + lambda ||theta||_1 adds lambda sgn(theta) to every gradient: a constant
pull towards 0 that parks many weights at 0. Loss + (lambda / 2) ||theta||_2^2 adds lambda theta: a
pull that weakens as a weight shrinks, so weights get small but rarely zero. The demo trains the
same 64-64-10 network on 300 digits with neither, L1 and L2 and compares the weights; then it finds
the minimisers of the lecture's y = (x - 2)^2 + lambda |x| for lambda = 0, 3, 10 (2, 0.5 and 0: for
lambda >= 4 the kink at 0 wins).
"""

from __future__ import annotations

import numpy as np

import deepnum as dn
from deepnum.demos._train import accuracy, fit, mlp
from deepnum.demos.context import pyplot
from deepnum.demos.registry import demo

NEAR_ZERO = 1e-3
LECTURE_LAMBDAS = {0: 2.0, 3: 0.5, 10: 0.0}  # lambda -> minimiser of (x - 2)^2 + lambda |x|


def _weights(model) -> list:
    return [m.weight for m in model if isinstance(m, dn.nn.Linear)]


def _lecture_minimisers():
    """Minimise (x - 2)^2 + lambda |x| on a fine grid, next to the closed form.

    Setting the (sub)gradient 2 (x - 2) + lambda sgn(x) to zero gives x = 2 - lambda / 2 while that
    is positive; otherwise 0 (the subgradient interval [-lambda, lambda] at 0 contains 4): the
    soft-threshold max(0, 2 - lambda / 2).
    """
    grid = np.linspace(-1, 3, 40001)  # step 1e-4
    rows = []
    for lam, expected in LECTURE_LAMBDAS.items():
        on_grid = float(grid[np.argmin((grid - 2) ** 2 + lam * np.abs(grid))])
        rows.append(dict(lam=lam, expected=expected, grid_minimiser=on_grid,
                         closed_form=max(0.0, 2 - lam / 2)))
    return grid, rows


@demo("regularization",
      "L1 makes weights sparse, L2 shrinks them; argmin (x-2)^2 + lam|x| = 2, 0.5, 0")
def run(ctx) -> None:
    from deepnum.nn.utils import l1_penalty, l2_penalty

    data = dn.data.load_dataset("digits")
    x_train = data.x_train.reshape(len(data.x_train), -1)[:300]
    y_train = data.y_train[:300]
    x_test, y_test = data.x_test.reshape(len(data.x_test), -1), data.y_test
    epochs = 12 if ctx.fast else 60
    penalties = {"none": None,
                 "L1, lambda = 1e-3": lambda m: 1e-3 * l1_penalty(_weights(m)),
                 "L2, lambda = 1e-2": lambda m: 1e-2 * l2_penalty(_weights(m))}
    rows, weights = [], {}
    for name, penalty in penalties.items():
        dn.manual_seed(0)
        model = mlp((64, 64, 10), activation=dn.nn.ReLU)
        fit(model, x_train, y_train, epochs=epochs, lr=0.05, batch_size=32, penalty=penalty)
        w = np.concatenate([p.array.ravel() for p in _weights(model)])
        weights[name] = w
        rows.append(dict(regularization=name, train_accuracy=accuracy(model, x_train, y_train),
                         test_accuracy=accuracy(model, x_test, y_test),
                         near_zero_fraction=float(np.mean(np.abs(w) < NEAR_ZERO)),
                         l1_norm=float(np.abs(w).sum()), l2_norm=float(np.linalg.norm(w))))
    ctx.table(rows, "weights", f"The same network trained {epochs} epochs (SGD) on 300 digits; "
                               f"near zero means |w| < {NEAR_ZERO}")
    grid, minimisers = _lecture_minimisers()
    ctx.table(minimisers, "lecture_minimisers", "Minimisers of y = (x - 2)^2 + lambda |x|")

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    bins = np.linspace(-0.4, 0.4, 81)
    for name, w in weights.items():
        axes[0].hist(np.clip(w, bins[0], bins[-1]), bins=bins, histtype="step", lw=1.3, label=name)
    axes[0].set_yscale("log")
    axes[0].set_xlabel("weight value")
    axes[0].legend(fontsize=7)
    axes[0].set_title("weight histograms (log count)", fontsize=9)
    xs = np.linspace(-4, 6, 400)
    for lam in LECTURE_LAMBDAS:
        curve = (xs - 2) ** 2 + lam * np.abs(xs)
        line, = axes[1].plot(xs, curve, label=f"lambda = {lam}")
        found = next(r["grid_minimiser"] for r in minimisers if r["lam"] == lam)
        axes[1].plot(found, (found - 2) ** 2 + lam * abs(found), "o", color=line.get_color())
    axes[1].set_title("y = (x - 2)^2 + lambda |x| and its minimisers", fontsize=9)
    axes[1].legend(fontsize=7)
    ctx.figure(fig, "regularization", "Left: L1 piles weights at zero, L2 narrows the spread. "
                                      "Right: the lecture's curves; the dots are the minimisers.")
    frac = {r["regularization"]: r["near_zero_fraction"] for r in rows}
    norm = {r["regularization"]: r["l2_norm"] for r in rows}
    none, l1, l2 = (frac[n] for n in penalties)
    ctx.say(f"With L1 {l1:.0%} of the weights end near zero, against {l2:.0%} with L2 and "
            f"{none:.0%} without; L2 shrinks the weight norm from {norm['none']:.1f} to "
            f"{norm['L2, lambda = 1e-2']:.1f}. The minimisers of (x-2)^2 + lambda|x| are "
            + ", ".join(f"{r['grid_minimiser']:g}" for r in minimisers) + " for lambda = 0, 3, 10.")
    ctx.check("L1 leaves many more weights near zero than L2 or none", l1 > 3 * max(l2, none),
              f"{l1:.3f} > 3 x max({l2:.3f}, {none:.3f})")
    ctx.check("L2 shrinks the weights", norm["L2, lambda = 1e-2"] < 0.8 * norm["none"],
              f"||w|| {norm['L2, lambda = 1e-2']:.2f} < 0.8 x {norm['none']:.2f}")
    for r in minimisers:
        ctx.check(f"argmin (x-2)^2 + {r['lam']}|x| = {r['expected']:g}",
                  abs(r["grid_minimiser"] - r["expected"]) < 1e-3
                  and r["closed_form"] == r["expected"],
                  f"grid search {r['grid_minimiser']:.4f}, max(0, 2 - lambda/2) = "
                  f"{r['closed_form']:g}")
