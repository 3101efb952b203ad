"""The functional API: every layer's computation as a plain function of tensors.

Layers in :mod:`deepnum.nn` hold parameters and call these; users call them directly when they want
no state. Each is composed from the primitives in :mod:`deepnum.ops`, so its gradient is free.

>>> import deepnum.nn.functional as F
>>> F.cross_entropy(logits, labels)      # fused, stable log-softmax + NLL
"""

from __future__ import annotations

import numpy as np

from deepnum.errors import ShapeError
from deepnum.ops import elementwise, linalg, reduce
from deepnum.ops import loss as loss_ops
from deepnum.random import get_rng
from deepnum.tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def shape_error(layer, expected: str, got: tuple) -> ShapeError:
    """The one message format for a shape that does not fit: the layer, what it wants, what it got."""
    name = layer if isinstance(layer, str) else repr(layer).split("\n")[0]
    return ShapeError(f"{name}: expected {expected}, got input of shape {tuple(got)}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    if reduction == "none":
        return loss
    raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


# ---------------------------------------------------------------------------- linear
def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b  (W is out x in, as in PyTorch)."""
    if bias is None:
        return linalg.Linear.apply(x, weight)
    return linalg.Linear.apply(x, weight, bias)


# ---------------------------------------------------------------------------- activations
def relu(x: Tensor) -> Tensor:
    """ReLU(z) = max(0, z)."""
    return elementwise.ReLU.apply(x)


def sigmoid(x: Tensor) -> Tensor:
    """sigma(z) = 1 / (1 + e^-z), stable for large |z|."""
    return elementwise.Sigmoid.apply(x)


def tanh(x: Tensor) -> Tensor:
    """tanh(z) = (e^z - e^-z) / (e^z + e^-z)."""
    return elementwise.Tanh.apply(x)


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """p_i = e^{z_i} / sum_j e^{z_j}, computed after subtracting max z so e^z cannot overflow."""
    return reduce.Softmax.apply(x, axis=dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """log p_i = z_i - log sum_j e^{z_j}, stable (never log 0)."""
    return reduce.LogSoftmax.apply(x, axis=dim)


# ---------------------------------------------------------------------------- dropout
def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each input with probability p and scale the rest by 1/(1-p) in training,
    so that at test time the layer is the identity. The lecture scales at test time instead,
    W_test = (1-p) W_train; both give the same expected activation."""
    if not 0 <= p < 1:
        raise ValueError(f"dropout: p must be in [0, 1), got {p!r}")
    if not training or p == 0:
        return x
    keep = get_rng().random(x.shape, dtype=x.dtype if x.dtype.kind == "f" else np.float32) >= p
    mask = keep.astype(x.dtype) * np.asarray(1 / (1 - p), dtype=x.dtype)
    return elementwise.Mul.apply(x, Tensor._wrap(mask))


# ---------------------------------------------------------------------------- losses
def mse_loss(input: Tensor, target: Tensor, reduction: str = "mean") -> Tensor:
    """Square loss: mean of (y - t)^2."""
    if input.shape != target.shape:
        raise ShapeError(f"mse_loss: input shape {input.shape} and target shape {target.shape} "
                         f"differ (broadcasting a loss is almost always a bug)")
    diff = input - target
    return _reduce(diff * diff, reduction)


def cross_entropy(input: Tensor, target, weight=None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy from logits: -sum_c q_c log softmax(z)_c, with q one-hot (class indices) or
    given probabilities. Its gradient with respect to z is p - q (the lecture's result).

    ``input`` is (N, C) or (N, C, d1, ...); ``target`` is class indices (N, d1, ...) or
    probabilities of the same shape as ``input``.
    """
    if reduction not in _REDUCTIONS:
        raise ValueError(f"cross_entropy: reduction must be one of {_REDUCTIONS}, "
                         f"got {reduction!r}")
    if not 0 <= label_smoothing <= 1:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], "
                         f"got {label_smoothing!r}")
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    w = None if weight is None else np.asarray(getattr(weight, "data", weight), dtype=input.dtype)
    if input.ndim == 1:  # a single sample: (C,) with a scalar target
        out = cross_entropy(input.unsqueeze(0), Tensor._wrap(t.reshape(1, *t.shape[0:])
                            if t.ndim else t.reshape(1)), weight, ignore_index, reduction,
                            label_smoothing)
        return out.squeeze(0) if reduction == "none" else out
    c = input.shape[1]
    if t.dtype.kind == "f":  # probability targets
        if t.shape != input.shape:
            raise ShapeError(f"cross_entropy: probability targets must have the input's shape "
                             f"{input.shape}, got {t.shape}")
        q = t * (1 - label_smoothing) + label_smoothing / c if label_smoothing else t
        logp = log_softmax(input, dim=1)
        term = logp * Tensor._wrap(np.asarray(q, dtype=input.dtype))
        if w is not None:
            term = term * Tensor._wrap(w.reshape((1, c) + (1,) * (input.ndim - 2)))
        per_sample = -term.sum(1)
        return per_sample.mean() if reduction == "mean" else _reduce(per_sample, reduction)
    if t.shape != (input.shape[0],) + input.shape[2:]:
        raise ShapeError(f"cross_entropy: class-index targets must have shape "
                         f"{(input.shape[0],) + input.shape[2:]} for input {input.shape}, "
                         f"got {t.shape}")
    logits = input
    if input.ndim > 2:  # (N, C, d...) -> (N*d..., C)
        logits = input.permute(0, *range(2, input.ndim), 1).reshape(-1, c)
    out = loss_ops.CrossEntropy.apply(logits, target=t.reshape(-1).astype(np.int64), weight=w,
                                      ignore_index=ignore_index, label_smoothing=label_smoothing,
                                      reduction=reduction)
    if reduction == "none" and input.ndim > 2:
        out = out.reshape(t.shape)
    return out
