"""Robust regression losses: L1, and Huber and smooth L1, quadratic near zero and linear far
from it.

A square loss grows with the square of the error, so one outlier (or one wildly wrong Q-value
target in reinforcement learning) can dominate the gradient; these losses cap the gradient at
``delta`` (Huber) or 1 (smooth L1), which is why the deep Q-network uses them.

    huber(e)     = 0.5 e^2                 if |e| < delta,  delta (|e| - 0.5 delta)  otherwise
    smooth_l1(e) = 0.5 e^2 / beta          if |e| < beta,   |e| - 0.5 beta           otherwise

(smooth_l1 = huber / beta; they coincide for delta = beta = 1.)

>>> F.huber_loss(dn.tensor([0.5, 3.0]), dn.tensor([0.0, 0.0]))     # (0.125 + 2.5) / 2 = 1.3125
"""

from __future__ import annotations

import numbers

from deepnum.errors import ShapeError
from deepnum.functions import where
from deepnum.nn._validate import one_of
from deepnum.nn.functional import REDUCTIONS
from deepnum.nn.module import Module
from deepnum.tensor import Tensor


def _check(name: str, input: Tensor, target: Tensor, reduction: str, width, width_name: str):
    one_of(name, "reduction", reduction, REDUCTIONS)
    if input.shape != target.shape:
        raise ShapeError(f"{name}: input shape {input.shape} and target shape {target.shape} "
                         f"differ (broadcasting a loss is almost always a bug)")
    if not isinstance(width, numbers.Real) or width < 0:
        raise ValueError(f"{name}: {width_name} must be a non-negative number, got {width!r}")


def _reduced(loss: Tensor, reduction: str) -> Tensor:
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def l1_loss(input: Tensor, target, size_average=None, reduce=None, reduction: str = "mean",
            weight: Tensor | None = None) -> Tensor:
    """L1 loss, the mean absolute error: mean |y - t| (weighted: sum w |y - t| / sum w). The
    gradient is sign(y - t), 0 where they are equal (as PyTorch)."""
    from deepnum.nn.functional import legacy_reduction, mse_loss_shape_warning, target_tensor

    reduction = one_of("l1_loss", "reduction", legacy_reduction(size_average, reduce, reduction),
                       REDUCTIONS)
    t = target_tensor(target, input)
    mse_loss_shape_warning(input, t)
    loss = (input - t).abs()
    if weight is None:
        return _reduced(loss, reduction)
    if tuple(weight.shape) != input.shape:
        raise ShapeError(f"l1_loss: weights and input must have the same size, got weight "
                         f"{tuple(weight.shape)} and input {input.shape}")
    loss = loss * weight
    return loss.sum() / weight.sum() if reduction == "mean" else _reduced(loss, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean",
               delta: float = 1.0) -> Tensor:
    """Huber loss: 0.5 e^2 for |e| < delta, else delta (|e| - 0.5 delta), e = input - target."""
    _check("huber_loss", input, target, reduction, delta, "delta")
    error = input - target
    size = error.abs()
    loss = where(size.array < delta, 0.5 * error * error, delta * (size - 0.5 * delta))
    return _reduced(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, reduction: str = "mean",
                   beta: float = 1.0) -> Tensor:
    """Smooth L1: 0.5 e^2 / beta for |e| < beta, else |e| - 0.5 beta; plain L1 when beta = 0."""
    _check("smooth_l1_loss", input, target, reduction, beta, "beta")
    error = input - target
    size = error.abs()
    if beta == 0:
        return _reduced(size, reduction)
    loss = where(size.array < beta, (0.5 / beta) * error * error, size - 0.5 * beta)
    return _reduced(loss, reduction)


class HuberLoss(Module):
    """Huber loss (see :func:`huber_loss`), the deep Q-network's loss.

    >>> nn.HuberLoss(delta=1.0)(q_values, targets)
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0):
        super().__init__()
        self.reduction = one_of("HuberLoss", "reduction", reduction, REDUCTIONS)
        if not isinstance(delta, numbers.Real) or delta <= 0:
            raise ValueError(f"HuberLoss: delta must be a positive number, got {delta!r}")
        self.delta = float(delta)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return huber_loss(input, target, self.reduction, self.delta)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, delta={self.delta}"


class SmoothL1Loss(Module):
    """Smooth L1 loss (see :func:`smooth_l1_loss`).

    >>> nn.SmoothL1Loss(beta=1.0)(prediction, target)
    """

    def __init__(self, reduction: str = "mean", beta: float = 1.0):
        super().__init__()
        self.reduction = one_of("SmoothL1Loss", "reduction", reduction, REDUCTIONS)
        if not isinstance(beta, numbers.Real) or beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be a non-negative number, got {beta!r}")
        self.beta = float(beta)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return smooth_l1_loss(input, target, self.reduction, self.beta)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, beta={self.beta}"


class L1Loss(Module):
    """Mean absolute error: L = mean_i |y_i - t_i|.

    >>> nn.L1Loss()(dn.tensor([0.5, 3.0]), dn.tensor([0.0, 1.0]))     # 1.25
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        from deepnum.nn.functional import legacy_reduction

        self.reduction = one_of("L1Loss", "reduction",
                                legacy_reduction(size_average, reduce, reduction), REDUCTIONS)

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return l1_loss(input, target, reduction=self.reduction)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
