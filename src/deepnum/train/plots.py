"""Plots of a training run as PNG files (matplotlib, Agg backend: no display needed).

* :func:`plot_history`: train and validation loss, and accuracy when it was measured, per epoch.
* :func:`plot_confusion_matrix`: counts of true class (rows) against predicted class (columns).
* :func:`plot_first_layer`: each first-layer neuron's weights drawn as an image (28x28 for MNIST,
  8x8 for the digits): "what each neuron looks for". Red pixels push the neuron up, blue down.

>>> plot_history(history, "runs/a/curves.png")
>>> plot_first_layer(model, "runs/a/first_layer.png", image_shape=(28, 28))
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)  # files only; never needs a display
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    _pyplot().close(fig)
    return path


def plot_history(history, path, title: str | None = None) -> Path:
    """Loss curves (and accuracy curves if logged) for train and validation, one panel each."""
    plt = _pyplot()
    logs = getattr(history, "history", history)
    epochs = np.arange(1, len(logs.get("loss", [])) + 1)
    panels = [key for key in ("loss", "accuracy") if key in logs]
    fig, axes = plt.subplots(1, len(panels), figsize=(5.5 * len(panels), 4), squeeze=False)
    for ax, key in zip(axes[0], panels):
        ax.plot(epochs, logs[key], "o-", label=f"train {key}", markersize=3)
        if f"val_{key}" in logs:
            ax.plot(epochs, logs[f"val_{key}"], "s-", label=f"validation {key}", markersize=3)
        ax.set_xlabel("epoch")
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return _save(fig, path)


def plot_confusion_matrix(cm, path, class_names=None, title: str = "Confusion matrix") -> Path:
    """A heat map of ``cm`` (rows true, columns predicted) with the counts written in."""
    plt = _pyplot()
    cm = np.asarray(cm)
    n = len(cm)
    names = class_names or [str(i) for i in range(n)]
    size = max(4.0, 0.55 * n + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(n), names, rotation=45 if max(map(len, names)) > 2 else 0, ha="right"
                  if max(map(len, names)) > 2 else "center")
    ax.set_yticks(range(n), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    threshold = cm.max() / 2 if cm.size else 0
    for i in range(n):
        for j in range(n):
            ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                    color="white" if cm[i, j] > threshold else "black")
    return _save(fig, path)


def first_layer_weights(model) -> np.ndarray:
    """The first weight matrix or kernel: (units, inputs) for Linear, (out, in, kh, kw) for conv."""
    for name, p in model.named_parameters():
        if name.endswith("weight") and p.array.ndim >= 2:
            return p.array
    raise ValueError(f"{type(model).__name__} has no weight matrix to draw")


def plot_first_layer(model, path, image_shape=None, max_units: int = 64) -> Path:
    """Draw up to ``max_units`` first-layer neurons' weights as images.

    ``image_shape`` is (H, W) of the inputs (e.g. (28, 28)); by default a square is assumed for a
    Linear layer, and a conv layer's kernels are drawn at their own size (channels averaged).
    """
    plt = _pyplot()
    w = first_layer_weights(model)
    if w.ndim == 2:
        side = int(math.isqrt(w.shape[1]))
        shape = tuple(image_shape) if image_shape else (side, side)
        if math.prod(shape) != w.shape[1]:
            raise ValueError(f"first layer has {w.shape[1]} inputs, which do not form an image "
                             f"of shape {shape}")
        images = w.reshape(len(w), *shape)
    else:
        images = w.reshape(w.shape[0], -1, *w.shape[-2:]).mean(axis=1)
    images = images[:max_units]
    cols = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.2 * cols, 1.2 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, k in zip(axes.flat, images, range(len(images))):
        limit = np.abs(image).max() or 1.0  # symmetric colour scale: white is weight 0
        ax.imshow(image, cmap="bwr", vmin=-limit, vmax=limit)
        ax.set_title(str(k), fontsize=7)
    fig.suptitle("First-layer weights: what each neuron looks for")
    return _save(fig, path)
