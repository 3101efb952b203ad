"""Demo 13: "deeper is better?" — networks of equal parameter count and growing depth, one task.

The lecture cites ImageNet (AlexNet 8 layers 16.4%, GoogLeNet 22 layers 6.7%, ResNet 152 layers
3.57%) and says deep structures capture complex patterns more efficiently. Those networks also
differ in much more than depth. Here only the depth changes: 1 to 4 hidden tanh layers, widths
chosen so each network has about the same number of parameters, trained the same way on a 3-arm
spiral. The demo reports what it measures; its checks are that the experiment is sound (equal
budgets, every network trained, numbers consistent), not that a particular depth wins.
"""

from __future__ import annotations

import numpy as np

import deepnum as dn
from deepnum.demos._train import accuracy, fit, mlp
from deepnum.demos.context import pyplot
from deepnum.demos.registry import demo

BUDGET = 1200  # parameters per network


def _count(depth: int, width: int, n_in: int = 2, n_out: int = 3) -> int:
    return (n_in + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * n_out


def width_for(depth: int, budget: int = BUDGET) -> int:
    """The width whose network of ``depth`` hidden layers comes closest to ``budget`` parameters."""
    return min(range(1, 2 * budget), key=lambda w: abs(_count(depth, w) - budget))


@demo("depth", "deeper is better? equal parameter budgets, growing depth, honest numbers")
def run(ctx) -> None:
    x, y = dn.data.make_spiral(n=600, noise=0.1, seed=0, num_classes=3)
    x = (x / 2).astype(np.float32)
    x_train, y_train, x_test, y_test = x[:300], y[:300], x[300:], y[300:]
    depths = (1, 2, 3, 4)
    seeds = (0,) if ctx.fast else (0, 1, 2)
    epochs = 300 if ctx.fast else 1500
    rows, curves = [], {}
    for depth in depths:
        width = width_for(depth)
        for seed in seeds:
            dn.manual_seed(seed)
            model = mlp((2,) + (width,) * depth + (3,), activation=dn.nn.Tanh)
            losses = fit(model, x_train, y_train, epochs=epochs, lr=0.01, optimizer="adam")
            curves[depth, seed] = losses
            rows.append(dict(hidden_layers=depth, width=width, parameters=model.num_parameters(),
                             seed=seed, first_loss=losses[0], final_loss=losses[-1],
                             train_accuracy=accuracy(model, x_train, y_train),
                             test_accuracy=accuracy(model, x_test, y_test)))
    ctx.table(rows, "depth", f"Equal budgets of about {BUDGET} parameters, {epochs} epochs of Adam "
                             f"(full batch), 300 training and 300 test points")
    means = {d: float(np.mean([r["test_accuracy"] for r in rows if r["hidden_layers"] == d]))
             for d in depths}
    train_means = {d: float(np.mean([r["train_accuracy"] for r in rows if r["hidden_layers"] == d]))
                   for d in depths}

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for depth in depths:
        axes[0].semilogy(curves[depth, seeds[0]], label=f"{depth} hidden, width {width_for(depth)}")
    axes[0].set_xlabel("epoch")
    axes[0].set_ylabel("training loss")
    axes[0].legend(fontsize=7)
    axes[1].plot(depths, [train_means[d] for d in depths], "o-", label="train")
    axes[1].plot(depths, [means[d] for d in depths], "s-", label="test")
    axes[1].set_xticks(depths)
    axes[1].set_xlabel("hidden layers (same parameter budget)")
    axes[1].set_ylabel(f"accuracy (mean of {len(seeds)} seed(s))")
    axes[1].legend(fontsize=8)
    ctx.figure(fig, "depth", f"Depth at a fixed budget of ~{BUDGET} parameters on a 3-arm spiral.")
    best = max(depths, key=lambda d: means[d])
    order = sorted(depths, key=lambda d: -means[d])
    ctx.say(f"At about {BUDGET} parameters, test accuracy by depth 1..4 is "
            + ", ".join(f"{means[d]:.3f}" for d in depths)
            + f" (mean of {len(seeds)} seed(s)); depth {best} does best here, ranking "
            + " > ".join(map(str, order)) + ". This is one small task: the lecture's ImageNet "
            "numbers also change the architecture, data and training, not just depth.")
    counts = [r["parameters"] for r in rows]
    ctx.check("every network has the same budget (within 5%)",
              max(counts) <= 1.05 * BUDGET and min(counts) >= 0.95 * BUDGET,
              f"parameters {min(counts)}..{max(counts)} for a budget of {BUDGET}")
    ctx.check("every network trained (loss at least halved)",
              all(r["final_loss"] <= 0.5 * r["first_loss"] for r in rows),
              ", ".join(f"{r['hidden_layers']}:{r['first_loss']:.2f}->{r['final_loss']:.2f}"
                        for r in rows))
    ctx.check("the numbers are consistent (finite, accuracies in [0, 1], above chance)",
              all(np.isfinite(r["final_loss"]) and 1 / 3 < r["test_accuracy"] <= 1
                  and 0 <= r["train_accuracy"] <= 1 for r in rows),
              f"test accuracies {min(r['test_accuracy'] for r in rows):.3f}.."
              f"{max(r['test_accuracy'] for r in rows):.3f}")
