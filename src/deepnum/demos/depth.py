"""Demo 13: "deeper is better?" — the lecture's ImageNet table, and equal budgets of growing depth.

The lecture's slide lists ImageNet networks by depth and error rate: AlexNet (8 layers, 16.4%),
VGG (19, 7.3%), GoogLeNet (22, 6.7%), ResNet (152, 3.57%). The first part rebuilds those four
networks (deepnum.models) and counts what the slide leaves out: parameters and multiply-adds per
224x224 image, from the layers' shapes (deepnum.models.complexity; nothing is trained or run at
that size). The error rates stay the published ones, labelled so: they are not measured here.

Those networks differ in much more than depth. In the second part only the depth changes: 1 to 4
hidden tanh layers, widths chosen so each network has about the same number of parameters,
trained the same way on a 3-arm spiral. The demo reports what it measures; its checks are that
the experiment is sound (equal budgets, every network trained, numbers consistent), not that a
particular depth wins.
"""

from __future__ import annotations

import numpy as np

import deepnum as dn
from deepnum.demos._train import accuracy, fit, mlp
from deepnum.demos.context import pyplot
from deepnum.demos.registry import demo

BUDGET = 1200  # parameters per network

# The slide's networks: (name, registry name, published ILSVRC top-5 error in %, the slide's)
SLIDE = (("AlexNet", "alexnet", 16.4), ("VGG-19", "vgg19", 7.3), ("GoogLeNet", "googlenet", 6.7),
         ("ResNet-152", "resnet152", 3.57))
# what the slide says about their depth, and the reference implementations' counts
SLIDE_DEPTHS = {"AlexNet": 8, "VGG-19": 19, "GoogLeNet": 22, "ResNet-152": 152}
REFERENCE = {"AlexNet": (62_378_344, None), "VGG-19": (143_667_240, 19.63),
             "GoogLeNet": (6_624_904, 1.50), "ResNet-152": (60_192_808, 11.51)}  # (params, G)


def imagenet_table() -> list[dict]:
    """The slide's networks at 1000 classes and 224x224x3: depth, parameters, multiply-adds."""
    from deepnum.models import MODELS
    from deepnum.models.complexity import multiply_adds, weighted_depth

    rows = []
    for name, registered, error in SLIDE:
        with dn.nn.init.skipped():  # shapes are all the counts need: no weights are drawn
            model = MODELS[registered]()
        macs, _ = multiply_adds(model, (3, 224, 224))
        rows.append({"network": name, "depth": weighted_depth(model),
                     "parameters": model.num_parameters(), "multiply_adds_G": macs / 1e9,
                     "GFLOPs": 2 * macs / 1e9, "published_top5_error_%": error})
    return rows


def _imagenet_part(ctx) -> None:
    rows = imagenet_table()
    ctx.table(rows, "depth_imagenet",
              "The lecture's ImageNet networks, rebuilt: depth (weight layers on the longest "
              "path), parameters and multiply-adds per 224x224 image counted from the layers' "
              "shapes (FLOPs = 2 x multiply-adds). The error rates are the published ILSVRC "
              "top-5 numbers from the slide, not measured here.")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    labels = {"VGG-19": (-8, 8, "right"), "GoogLeNet": (8, -18, "left")}  # apart, readable
    for r in rows:
        ax.scatter(r["depth"], r["published_top5_error_%"], s=30 + 12 * r["multiply_adds_G"])
        dx, dy, align = labels.get(r["network"], (6, 4, "left"))
        ax.annotate(f"{r['network']}\n{r['parameters'] / 1e6:.1f}M params, "
                    f"{r['multiply_adds_G']:.1f} G mult-adds",
                    (r["depth"], r["published_top5_error_%"]), fontsize=7, xytext=(dx, dy),
                    textcoords="offset points", ha=align)
    ax.set_xscale("log")
    ax.set_xlabel("depth (weight layers)")
    ax.set_ylabel("top-5 error, % (published, not ours)")
    ax.set_xlim(5, 400)
    ctx.figure(fig, "depth_imagenet", "The slide's networks: published ImageNet error against "
                                      "depth; marker area grows with the multiply-adds we count.")
    by = {r["network"]: r for r in rows}
    ctx.say("The lecture's table, rebuilt: " + "; ".join(
        f"{r['network']} {r['depth']} layers, {r['parameters'] / 1e6:.1f}M parameters, "
        f"{r['multiply_adds_G']:.2f} G multiply-adds per 224x224 image, "
        f"{r['published_top5_error_%']}% published top-5 error" for r in rows)
        + f". Depth is not size: GoogLeNet is deeper than AlexNet with "
          f"{by['GoogLeNet']['parameters'] / by['AlexNet']['parameters']:.2f} times its "
          f"parameters, and ResNet-152 is {by['ResNet-152']['depth'] / by['VGG-19']['depth']:.0f} "
          f"times deeper than VGG-19 at "
          f"{by['ResNet-152']['multiply_adds_G'] / by['VGG-19']['multiply_adds_G']:.2f} times "
          f"its multiply-adds.")
    ctx.check("the rebuilt networks have the slide's depths",
              all(by[n]["depth"] == d for n, d in SLIDE_DEPTHS.items()),
              ", ".join(f"{n} {by[n]['depth']}" for n in SLIDE_DEPTHS))
    ctx.check("parameters and multiply-adds are the reference implementations' (torchvision's "
              "published G mult-adds, to 1%)",
              all(by[n]["parameters"] == p and (g is None or abs(by[n]["multiply_adds_G"] / g - 1)
                                                < 0.01) for n, (p, g) in REFERENCE.items()),
              ", ".join(f"{n} {by[n]['parameters']:,} / {by[n]['multiply_adds_G']:.2f} G"
                        for n in REFERENCE))
    ctx.check("deeper is not bigger: GoogLeNet has fewer parameters than AlexNet, ResNet-152 "
              "fewer multiply-adds than VGG-19",
              by["GoogLeNet"]["parameters"] < by["AlexNet"]["parameters"]
              and by["ResNet-152"]["multiply_adds_G"] < by["VGG-19"]["multiply_adds_G"],
              f"{by['GoogLeNet']['parameters']:,} < {by['AlexNet']['parameters']:,}; "
              f"{by['ResNet-152']['multiply_adds_G']:.2f} G < "
              f"{by['VGG-19']['multiply_adds_G']:.2f} G")


def _count(depth: int, width: int, n_in: int = 2, n_out: int = 3) -> int:
    return (n_in + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * n_out


def width_for(depth: int, budget: int = BUDGET) -> int:
    """The width whose network of ``depth`` hidden layers comes closest to ``budget`` parameters."""
    return min(range(1, 2 * budget), key=lambda w: abs(_count(depth, w) - budget))


@demo("depth", "deeper is better? the ImageNet table rebuilt, equal budgets of growing depth")
def run(ctx) -> None:
    _imagenet_part(ctx)
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
