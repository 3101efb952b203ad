"""Losses by name for the training loop: cross-entropy, MSE, and the perceptron and hinge criteria.

The two margin criteria are composed from differentiable primitives (max, relu, a one-hot product),
so their gradients come for free:

* ``perceptron``: L = mean_i max(0, max_j z_ij - z_i,y_i). Zero when the true class already scores
  highest; otherwise SGD adds x to the true class's weights and subtracts it from the winning
  wrong class's: Rosenblatt's update rule, generalised to many classes.
* ``hinge``: the same with a margin of 1 (Crammer-Singer multiclass SVM,
  :func:`multiclass_hinge_loss`): L = mean_i max(0, max_{j != y_i} (1 + z_ij) - z_i,y_i). The
  binary hinge loss of labels in {-1, +1} is ``nn.functional.hinge_loss``.

>>> loss_fn = get_loss("perceptron")
>>> loss = loss_fn(model(x), labels)
"""

from __future__ import annotations

import numpy as np

from deepnum.nn import functional as F
from deepnum.tensor import Tensor


def _targets(target) -> np.ndarray:
    return np.asarray(target.array if isinstance(target, Tensor) else target)


def margin_loss(logits: Tensor, target, margin: float = 0.0) -> Tensor:
    """mean_i max(0, max_j (z_ij + margin [j != y_i]) - z_i,y_i)."""
    t = _targets(target).reshape(-1).astype(np.int64)
    one_hot = np.zeros(logits.shape, dtype=logits.dtype)
    one_hot[np.arange(len(t)), t] = 1
    true_score = (logits * Tensor._wrap(one_hot)).sum(1)
    shifted = logits + Tensor._wrap((margin * (1 - one_hot)).astype(logits.dtype)) if margin \
        else logits
    return F.relu(shifted.amax(1) - true_score).mean()


def perceptron_loss(logits: Tensor, target) -> Tensor:
    """The perceptron criterion: how far the best wrong class outscores the true one (0 if not)."""
    return margin_loss(logits, target, 0.0)


def multiclass_hinge_loss(logits: Tensor, target) -> Tensor:
    """Crammer-Singer multiclass hinge loss (margin 1): wants the true class ahead of every
    other by 1."""
    return margin_loss(logits, target, 1.0)


def cross_entropy_loss(logits: Tensor, target) -> Tensor:
    return F.cross_entropy(logits, target)


def mse_loss_column_targets(outputs: Tensor, target) -> Tensor:
    """Square loss (nn.functional.mse_loss) of a regression model's (N, 1) output against (N,)
    targets, made a column first (what the deepnum command's data sets hold)."""
    t = _targets(target)
    if outputs.shape != t.shape and outputs.array.size == t.size:
        t = t.reshape(outputs.shape)
    return F.mse_loss(outputs, Tensor._wrap(t.astype(outputs.dtype, copy=False)))


LOSSES = {
    "cross_entropy": cross_entropy_loss,
    "mse": mse_loss_column_targets,
    "perceptron": perceptron_loss,
    "hinge": multiclass_hinge_loss,
}


def get_loss(loss):
    """A loss ``(outputs, targets) -> scalar Tensor`` from a name, a Module or a callable."""
    if callable(loss):
        return loss
    key = str(loss).lower().replace("-", "_")
    key = {"crossentropy": "cross_entropy", "ce": "cross_entropy", "l2": "mse"}.get(key, key)
    if key not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; known losses: {', '.join(LOSSES)}")
    return LOSSES[key]
