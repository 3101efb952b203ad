"""Small helpers the demos share: a plain training loop, accuracy, and decision-boundary plots.

The loop is written out here (rather than using deepnum.train) so each demo shows exactly which
steps it takes: shuffle, forward, loss, backward, update.
"""

from __future__ import annotations

import numpy as np

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F


def mlp(sizes, activation=nn.Tanh, dropout: float = 0.0, dtype=np.float32) -> nn.Sequential:
    """Linear layers of the given sizes with ``activation`` (a Module class or None) between."""
    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out, dtype=dtype))
        if i < len(sizes) - 2:
            if activation is not None:
                layers.append(activation())
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def predict(model, x: np.ndarray, batch: int = 4096) -> np.ndarray:
    """Logits (or outputs) of ``model`` on ``x`` in eval mode, as an ndarray."""
    was_training = model.training
    model.eval()
    with dn.no_grad():
        out = np.concatenate([model(dn.Tensor(x[i:i + batch])).array
                              for i in range(0, len(x), batch)])
    model.train(was_training)
    return out


def accuracy(model, x: np.ndarray, y: np.ndarray) -> float:
    return float((predict(model, x).argmax(1) == y).mean())


def fit(model, x, y, epochs: int, lr: float, batch_size: int | None = None, momentum=0.9,
        loss="cross_entropy", penalty=None, on_epoch=None, seed: int = 0,
        optimizer: str = "sgd") -> list[float]:
    """Mini-batch SGD with momentum (or ``optimizer="adam"``); returns each epoch's mean loss.

    ``penalty(model) -> Tensor`` is added to the loss (L1/L2); ``on_epoch(epoch, model)`` runs after
    each epoch and may return True to stop (early stopping).
    """
    if optimizer == "adam":
        opt = dn.optim.Adam(model.parameters(), lr=lr)
    else:
        opt = dn.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    order_rng = np.random.default_rng(seed)
    n = len(x)
    batch_size = batch_size or n
    losses = []
    model.train()
    for epoch in range(epochs):
        order = order_rng.permutation(n) if batch_size < n else np.arange(n)
        total = 0.0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            out = model(dn.Tensor(x[idx]))
            if loss == "cross_entropy":
                value = F.cross_entropy(out, y[idx])
            else:
                value = F.mse_loss(out, dn.Tensor(y[idx]))
            full = value + penalty(model) if penalty is not None else value
            opt.zero_grad()
            full.backward()
            opt.step()
            total += value.item() * len(idx)
        losses.append(total / n)
        if on_epoch is not None and on_epoch(epoch, model):
            break
    return losses


def boundary(ax, predict_fn, x: np.ndarray, y: np.ndarray, title: str, steps: int = 150) -> None:
    """Colour the plane by ``predict_fn(points) -> class`` and scatter the data on top."""
    pad = 0.5
    lo, hi = x.min(0) - pad, x.max(0) + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], steps), np.linspace(lo[1], hi[1], steps))
    grid = np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float32)
    zz = predict_fn(grid).reshape(gx.shape)
    ax.contourf(gx, gy, zz, levels=np.arange(zz.max() + 2) - 0.5, cmap="coolwarm", alpha=0.3)
    ax.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=12, edgecolors="k", linewidths=0.3)
    ax.set_title(title, fontsize=9)
    ax.set_xlim(lo[0], hi[0])
    ax.set_ylim(lo[1], hi[1])
