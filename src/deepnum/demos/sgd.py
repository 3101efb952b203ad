"""Demo 9: gradient descent paths on a 2-D loss surface: the learning rate and the batch size.

Part 1, the learning rate, on L(w) = (w1^2 + 10 w2^2) / 2. Gradient descent multiplies the error
along each axis by (1 - eta * curvature) per step, so it converges exactly when eta < 2 / 10 = 0.2
(the largest curvature): a tiny eta crawls, a good one arrives, one past 0.2 diverges.
Part 2, the batch size, on the squared error of a line fit y = w x + b (a 2-D surface over (w, b)).
A mini-batch gradient is a noisy estimate of the full one; with a fixed eta, the smaller the batch
the more the path jitters around the minimum, and the higher the loss it keeps there.
"""

from __future__ import annotations

import numpy as np

import deepnum as dn
from deepnum.demos.context import pyplot
from deepnum.demos.registry import demo

CURVATURE = np.array([1.0, 10.0])
START = np.array([-4.0, 1.5])


def _quadratic_path(lr: float, steps: int) -> np.ndarray:
    w = dn.tensor(START, dtype=np.float64, requires_grad=True)
    opt = dn.optim.SGD([w], lr=lr)
    path = [w.array.copy()]
    for _ in range(steps):
        loss = (dn.tensor(CURVATURE / 2, dtype=np.float64) * w * w).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        path.append(w.array.copy())
    return np.array(path)


def _line_data(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n)
    return x, 2.0 * x - 1.0 + rng.normal(0, 0.5, n)  # true w = 2, b = -1


def _line_loss(params: np.ndarray, x, y) -> np.ndarray:
    """Full-data mean squared error at each row (w, b) of ``params``."""
    params = np.atleast_2d(params)
    return np.mean((params[:, :1] * x + params[:, 1:] - y) ** 2, axis=1)


def _minibatch_path(x, y, batch_size: int, lr: float, steps: int, seed: int = 0) -> np.ndarray:
    w = dn.tensor([-1.0, 2.0], dtype=np.float64, requires_grad=True)  # (w, b) far from (2, -1)
    opt = dn.optim.SGD([w], lr=lr)
    rng = np.random.default_rng(seed)
    path = [w.array.copy()]
    for _ in range(steps):
        idx = rng.choice(len(x), batch_size, replace=False)
        xb, yb = dn.tensor(x[idx], dtype=np.float64), dn.tensor(y[idx], dtype=np.float64)
        loss = ((w[0] * xb + w[1] - yb) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        path.append(w.array.copy())
    return np.array(path)


@demo("sgd", "gradient descent paths: learning rate too small, right, too large; and batch size")
def run(ctx) -> None:
    steps = 40 if ctx.fast else 60
    rates = {"too small (0.005)": 0.005, "right (0.15)": 0.15, "too large (0.21 > 2/10)": 0.21}
    paths = {name: _quadratic_path(lr, steps) for name, lr in rates.items()}
    start = float(np.linalg.norm(START))
    dist = {name: float(np.linalg.norm(p[-1])) for name, p in paths.items()}

    x, y = _line_data(256)
    best = np.linalg.lstsq(np.stack([x, np.ones_like(x)], 1), y, rcond=None)[0]
    floor = float(_line_loss(best, x, y)[0])
    mb_steps = 150 if ctx.fast else 400
    batches = (1, 16, 256)
    mb_paths = {bs: _minibatch_path(x, y, bs, 0.05, mb_steps) for bs in batches}
    tail = mb_steps // 3
    excess = {bs: float(np.mean(_line_loss(p[-tail:], x, y)) - floor) for bs, p in mb_paths.items()}

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3))
    g1, g2 = np.meshgrid(np.linspace(-5, 5, 200), np.linspace(-3, 3, 200))
    axes[0].contour(g1, g2, (g1 ** 2 + 10 * g2 ** 2) / 2, levels=20, cmap="Greys", linewidths=0.6)
    for name, p in paths.items():
        shown = p[np.all(np.abs(p) < 10, axis=1)]
        axes[0].plot(shown[:, 0], shown[:, 1], ".-", ms=3, lw=1, label=f"lr {name}")
    axes[0].set_xlim(-5, 5)
    axes[0].set_ylim(-3, 3)
    axes[0].legend(fontsize=7)
    axes[0].set_title(f"L = (w1^2 + 10 w2^2)/2, {steps} steps", fontsize=9)
    gw, gb = np.meshgrid(np.linspace(-1.5, 3, 120), np.linspace(-2, 2.5, 120))
    surface = _line_loss(np.stack([gw.ravel(), gb.ravel()], 1), x, y).reshape(gw.shape)
    axes[1].contour(gw, gb, surface, levels=20, cmap="Greys", linewidths=0.6)
    for bs, p in mb_paths.items():
        axes[1].plot(p[:, 0], p[:, 1], "-", lw=0.8, label=f"batch {bs}")
    axes[1].plot(*best, "k*", ms=10, label="minimum")
    axes[1].legend(fontsize=7)
    axes[1].set_xlabel("w")
    axes[1].set_ylabel("b")
    axes[1].set_title(f"line fit, lr 0.05, {mb_steps} steps", fontsize=9)
    ctx.figure(fig, "paths", "Left: gradient descent paths for three learning rates. Right: SGD "
                             "paths for three batch sizes on the squared error of a line fit.")
    rows = [dict(experiment="learning rate", setting=name, steps=steps,
                 distance_to_minimum=dist[name]) for name in rates]
    rows += [dict(experiment="batch size", setting=f"batch {bs}, lr 0.05", steps=mb_steps,
                  distance_to_minimum=float(np.linalg.norm(mb_paths[bs][-1] - best)),
                  excess_loss_last_third=excess[bs]) for bs in batches]
    ctx.table(rows, "paths", "Where each path ends (distance from the minimum; start at "
                             f"{start:.2f} for the quadratic)")
    small, right, large = (dist[n] for n in rates)
    ctx.say(f"After {steps} steps from distance {start:.2f}: lr 0.005 is still at {small:.2f}, lr "
            f"0.15 at {right:.1e}, lr 0.21 (> 2/curvature) has diverged to {large:.2g}. Smaller "
            f"batches jitter more around the minimum: excess loss {excess[1]:.2e} (batch 1), "
            f"{excess[16]:.2e} (16), {excess[256]:.2e} (256, full).")
    ctx.check("too small a learning rate crawls", small > 0.5 * start,
              f"distance {small:.3f} > {0.5 * start:.3f}")
    ctx.check("a good learning rate converges", right < 1e-2 * start,
              f"distance {right:.2e} < {1e-2 * start:.2e}")
    ctx.check("past 2/curvature it diverges", large > start, f"distance {large:.3g} > {start:.3f}")
    ctx.check("smaller batches stay noisier near the minimum",
              excess[1] > excess[16] > excess[256],
              f"excess loss {excess[1]:.2e} > {excess[16]:.2e} > {excess[256]:.2e}")
