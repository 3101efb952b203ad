"""Demo 14: residual learning — plain and residual networks of 8, 20 and 56 layers, one budget.

He et al. (2015) found that a deeper plain network trains *worse* than a shallower one (the
"degradation problem": higher training error, so not overfitting), and that identity shortcuts,
y = relu(F(x) + x), remove it. Here the paper's CIFAR networks (a 3x3 stem, three stages of
16/32/64 channels, batch norm, depth 6n + 2; deepnum.models.resnet.CifarResNet) are trained with
and without their shortcuts on Fashion-MNIST (or the MNIST test digits), all with the same
images, epochs, batch size and learning rate. The demo reports the training loss and test
accuracy of each, says whether the plain 56 degraded at this scale, and shows the gradient norm
of every convolution at initialisation, where the difference starts.
"""

from __future__ import annotations

import time

import numpy as np

import deepnum as dn
import deepnum.nn.functional as F
from deepnum.demos._train import predict
from deepnum.demos.context import pyplot
from deepnum.demos.registry import DemoUnavailable, demo
from deepnum.models.resnet import CifarResNet

DEPTHS = (8, 20, 56)
KINDS = {"plain": "none", "residual": "A"}  # CifarResNet's shortcut option


def load_images(fast: bool):
    """(name, x_train, y_train, x_test, y_test): Fashion-MNIST, else the MNIST test digits (their
    80/20 split, ``$DEEPNUM_DATA``); a random subset sized for the budget, at 14x14 (means of
    2x2 pixels) in the fast mode."""
    from deepnum import data

    found = None
    for key, title in (("fashion-mnist", "Fashion-MNIST"), ("mnist-test", "MNIST test digits")):
        try:
            found, name = data.load_dataset(key), title
            break
        except (FileNotFoundError, OSError, ValueError) as error:
            missing = error
    if found is None:
        raise DemoUnavailable(f"neither Fashion-MNIST nor the MNIST test digits were found "
                              f"({missing})")
    x, y, xt, yt = found.x_train, found.y_train, found.x_test, found.y_test
    rng = np.random.default_rng(0)
    train = rng.permutation(len(x))[:256 if fast else 2500]
    test = rng.permutation(len(xt))[:256 if fast else 1000]
    x, xt = x[train], xt[test]
    if fast:
        x, xt = (a.reshape(len(a), a.shape[1], 14, 2, 14, 2).mean((3, 5)) for a in (x, xt))
    return name, x, y[train], xt, yt[test]


def train(model, x, y, epochs: int, lr: float, batch: int, warmup: int) -> list[float]:
    """SGD with momentum 0.9 on shuffled mini-batches; the learning rate rises linearly to ``lr``
    over the first ``warmup`` steps (as He et al. warmed up their deepest network): a residual
    stack starts with large outputs, each block adding its branch to the signal. Returns the
    loss of every step."""
    opt = dn.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    order_rng, losses = np.random.default_rng(0), []
    model.train()
    for _ in range(epochs):
        order = order_rng.permutation(len(x))
        for start in range(0, len(x), batch):
            idx = order[start:start + batch]
            for group in opt.param_groups:
                group["lr"] = lr * min(1.0, (len(losses) + 1) / warmup)
            loss = F.cross_entropy(model(dn.Tensor(x[idx])), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses


def precise_batch_norm(model, x, batch: int = 250) -> None:
    """Re-estimate every batch norm's running statistics on ``x`` with the trained weights (a
    plain average over batches, no gradient), so evaluation uses the statistics of the network
    as it ended, not a moving average that lags behind a few hundred fast-changing steps."""
    norms = [m for m in model.modules() if isinstance(m, dn.nn.BatchNorm2d)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over the batches below
    model.train()
    with dn.no_grad():
        for start in range(0, len(x), batch):
            model(dn.Tensor(x[start:start + batch]))
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    model.eval()


def evaluate(model, x, y) -> tuple[float, float]:
    """(mean cross-entropy, accuracy) in evaluation mode."""
    logits = predict(model, x)
    return float(F.cross_entropy(dn.Tensor(logits), y).item()), float((logits.argmax(1) == y)
                                                                      .mean())


def gradient_norms(model, x, y) -> np.ndarray:
    """||dL/dW|| of every convolution, input to output, for one batch (training mode; the
    running statistics are left as they were)."""
    state = {k: v.array.copy() for k, v in model.named_buffers()}
    model.zero_grad()
    F.cross_entropy(model(dn.Tensor(x)), y).backward()
    convs = [m for m in model.modules() if isinstance(m, dn.nn.Conv2d)]
    norms = np.array([float(np.linalg.norm(c.weight.grad.array)) for c in convs])
    model.zero_grad()
    for k, v in model.named_buffers():
        v.array[...] = state[k]
    return norms


@demo("residual", "residual learning: deeper plain networks train worse, shortcuts fix it")
def run(ctx) -> None:
    name, x, y, x_test, y_test = load_images(ctx.fast)
    epochs, batch = (2, 32) if ctx.fast else (3, 64)
    lr = 0.1 * batch / 128  # the paper's 0.1 at batch 128, scaled linearly with the batch
    steps = epochs * -(-len(x) // batch)
    warmup = max(1, steps // 10)
    rows, curves, norms = [], {}, {}
    start, wall = time.process_time(), time.perf_counter()
    for depth in DEPTHS:
        for kind, shortcut in KINDS.items():
            dn.manual_seed(0)
            model = CifarResNet(depth, num_classes=10, in_channels=x.shape[1], shortcut=shortcut)
            norms[kind, depth] = gradient_norms(model, x[:batch], y[:batch])
            curves[kind, depth] = train(model, x, y, epochs, lr, batch, warmup)
            precise_batch_norm(model, x[:1000])
            train_loss, train_accuracy = evaluate(model, x, y)
            _, test_accuracy = evaluate(model, x_test, y_test)
            rows.append(dict(network=f"{kind}-{depth}", layers=depth, shortcuts=kind,
                             parameters=model.num_parameters(), train_loss=train_loss,
                             train_accuracy=train_accuracy, test_accuracy=test_accuracy,
                             last_epoch_mean_loss=float(np.mean(curves[kind, depth][-steps
                                                                                   // epochs:])),
                             grad_first_over_last=norms[kind, depth][0] / norms[kind, depth][-1]))
    seconds, wall = time.process_time() - start, time.perf_counter() - wall
    size = "x".join(map(str, x.shape[1:]))
    ctx.table(rows, "residual", f"{name} ({size}): {len(x)} training and {len(x_test)} test "
                                f"images, {epochs} epoch(s) = {steps} steps of SGD (lr {lr} after "
                                f"a {warmup}-step warm-up, momentum 0.9, batch {batch}) for every "
                                f"network; losses and accuracies in evaluation mode after "
                                f"training; {seconds:.0f} CPU s ({wall:.0f} s wall) in all")
    loss = {(r["shortcuts"], r["layers"]): r["train_loss"] for r in rows}

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    window = max(1, steps // 8)
    for i, depth in enumerate(DEPTHS):
        for kind in KINDS:
            smooth = np.convolve(curves[kind, depth], np.ones(window) / window, mode="valid")
            axes[0].plot(np.arange(window, steps + 1), smooth, "--" if kind == "plain" else "-",
                         color=f"C{i}", label=f"{kind}-{depth}")
    axes[0].set_xlabel("step")
    axes[0].set_ylabel(f"training loss (mean of {window} steps)")
    axes[0].legend(fontsize=7)
    for kind in KINDS:
        g = norms[kind, 56]
        axes[1].semilogy(range(1, len(g) + 1), g, "--" if kind == "plain" else "-",
                         label=f"{kind}-56")
    axes[1].set_xlabel("convolution (input -> output)")
    axes[1].set_ylabel("||dL/dW|| at initialisation")
    axes[1].legend(fontsize=8)
    ctx.figure(fig, "residual", "Left: training loss, plain (dashed) and residual (solid) "
                                "networks, one colour per depth. "
                                "Right: gradient norm of each convolution of the 56-layer "
                                "networks at initialisation.")

    degrades = loss["plain", 56] > loss["plain", 20]
    plain, res = norms["plain", 56], norms["residual", 56]
    spread = {k: norms[k, 56][0] / norms[k, 56][-1] for k in KINDS}
    ctx.say("Training loss after training, plain 8/20/56: "
            + "/".join(f"{loss['plain', d]:.3f}" for d in DEPTHS)
            + "; residual: " + "/".join(f"{loss['residual', d]:.3f}" for d in DEPTHS) + ". "
            + (f"The plain 56 trains worse than the plain 20 ({loss['plain', 56]:.3f} > "
               f"{loss['plain', 20]:.3f}): the degradation problem, at this scale too. "
               if degrades else
               f"At this scale the plain 56 does not train worse than the plain 20 "
               f"({loss['plain', 56]:.3f} <= {loss['plain', 20]:.3f}): no degradation here. ")
            + f"With shortcuts the 56 reaches {loss['residual', 56]:.3f}, "
            + ("below" if loss["residual", 56] < loss["plain", 56] else "not below")
            + " the plain 56, and "
            + ("below" if loss["residual", 56] < loss["residual", 20] else "not (yet) below")
            + f" the residual 20 ({loss['residual', 20]:.3f}) in this budget. "
            + f"At initialisation the plain 56's first convolution gets {spread['plain']:.0f}x "
              f"the gradient norm of its last, the residual 56's {spread['residual']:.1f}x"
            + (": without shortcuts the gradient grows layer by layer towards the input."
               if spread["plain"] > 10 * spread["residual"] else "."))
    ctx.check("every network had the same budget (images, epochs, batch size, learning rate)",
              len({len(c) for c in curves.values()}) == 1 and len(rows) == 2 * len(DEPTHS),
              f"{len(rows)} networks x {epochs} epoch(s) of {len(x)} images")
    ctx.check("the numbers are sound (finite losses, accuracies in [0, 1])",
              all(np.isfinite(r["train_loss"]) and 0 <= r["test_accuracy"] <= 1
                  for r in rows) and np.isfinite(plain).all() and np.isfinite(res).all(),
              f"losses {min(loss.values()):.3f}..{max(loss.values()):.3f}")
    if degrades:
        ctx.check("shortcuts remove the degradation: the residual 56 trains to a lower loss than "
                  "the plain 56", loss["residual", 56] < loss["plain", 56],
                  f"residual-56 {loss['residual', 56]:.3f} vs plain-56 {loss['plain', 56]:.3f}")
    else:
        ctx.check("at initialisation the plain 56's gradient norms spread over far more (first "
                  "conv / last conv) than the residual 56's", spread["plain"] > spread["residual"],
                  f"plain {spread['plain']:.1f}x, residual {spread['residual']:.1f}x")
