"""Losses that are (negative log-) likelihoods or divergences of distributions:

    KL divergence:  sum t (log t - x)          x = log q (log-probabilities), t = p
    Gaussian NLL:   (log max(var, eps) + (x - t)^2 / max(var, eps)) / 2   [+ log(2 pi) / 2]
    Poisson NLL:    e^x - t x  (log_input)  or  x - t log(x + eps)        [+ Stirling term]

Each is composed from primitives, so the gradients of the input, of a soft target and of the
variance come free (PyTorch differentiates all of them too).

>>> F.kl_div(F.log_softmax(logits, 1), target_probs, reduction="batchmean")
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from deepnum.errors import ShapeError
from deepnum.functions import where
from deepnum.nn import functional as F
from deepnum.nn._validate import one_of
from deepnum.nn.module import Module
from deepnum.tensor import Tensor

KL_REDUCTIONS = ("mean", "batchmean", "sum", "none")


def kl_div(input: Tensor, target, size_average=None, reduce=None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """KL(t || q) pointwise, input = log q: t (log t - input) (0 where t = 0), or
    e^t (t - input) with ``log_target``. 'batchmean' divides the sum by the batch size (the
    true KL divergence per sample); 'mean' by the number of elements, with PyTorch's warning."""
    reduction = one_of("kl_div", "reduction", F.legacy_reduction(size_average, reduce, reduction),
                       KL_REDUCTIONS)
    if reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the "
                      "support size.'batchmean' divides only by the batch size, and aligns with "
                      "the KL div math definition.", UserWarning, stacklevel=2)
    t = F.target_tensor(target, input)
    if log_target:
        loss = t.exp() * (t - input)
    else:
        positive = t.array > 0
        safe = where(positive, t, Tensor._wrap(np.ones((), t.array.dtype)))
        loss = where(positive, t * safe.log(), t * 0) - t * input  # xlogy(t, t) - t input
    if reduction == "batchmean":
        return loss.sum() / (input.shape[0] if input.ndim else 1)
    return F._reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target, var, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of target under N(input, var): (log v + (x - t)^2 / v) / 2,
    v = var clamped at eps without changing its gradient (as PyTorch); ``var`` the input's shape,
    one axis short of it, with a last axis of 1 (one variance per row), or a number."""
    one_of("gaussian_nll_loss", "reduction", reduction, F.REDUCTIONS)
    t = F.target_tensor(target, input)
    if not isinstance(var, Tensor):
        var = Tensor._wrap(np.full(input.shape, var, dtype=input.array.dtype))
    if var.shape != input.shape:
        if var.shape == input.shape[:-1]:
            var = var.unsqueeze(-1)
        elif not (var.shape[:-1] == input.shape[:-1] and var.shape[-1:] == (1,)):
            raise ShapeError(f"gaussian_nll_loss: var is of incorrect size {tuple(var.shape)} "
                             f"for input of shape {tuple(input.shape)}")
    if np.any(var.array < 0):
        raise ValueError("gaussian_nll_loss: var has negative entry/entries")
    clamped = np.maximum(var.array, np.asarray(eps, var.array.dtype))
    var = var + Tensor._wrap(clamped - var.array)  # the clamp, outside the graph (PyTorch's)
    error = input - t
    loss = (var.log() + error * error / var) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return F._reduce(loss, reduction)


def poisson_nll_loss(input: Tensor, target, log_input: bool = True, full: bool = False,
                     size_average=None, eps: float = 1e-8, reduce=None,
                     reduction: str = "mean") -> Tensor:
    """The negative log-likelihood of counts t under Poisson(rate): e^x - t x when the input is
    the log-rate (``log_input``), else x - t log(x + eps); ``full`` adds Stirling's
    t log t - t + log(2 pi t) / 2 where t > 1."""
    reduction = one_of("poisson_nll_loss", "reduction",
                       F.legacy_reduction(size_average, reduce, reduction), F.REDUCTIONS)
    t = F.target_tensor(target, input)
    loss = input.exp() - t * input if log_input else input - t * (input + eps).log()
    if full:
        above = t.array > 1
        safe = where(above, t, Tensor._wrap(np.full((), 2, t.array.dtype)))
        stirling = safe * safe.log() - safe + (safe * (2 * math.pi)).log() * 0.5
        loss = loss + where(above, stirling, stirling * 0)
    return F._reduce(loss, reduction)


class KLDivLoss(Module):
    """KL divergence of the target distribution from the input's: L = sum t (log t - x), the
    input given as log-probabilities (``log_target``: the target too).

    >>> nn.KLDivLoss(reduction="batchmean")(F.log_softmax(z, 1), teacher_probs)
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False):
        super().__init__()
        self.reduction = one_of("KLDivLoss", "reduction",
                                F.legacy_reduction(size_average, reduce, reduction),
                                KL_REDUCTIONS)
        self.log_target = bool(log_target)

    def forward(self, input: Tensor, target) -> Tensor:
        return kl_div(input, target, reduction=self.reduction, log_target=self.log_target)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, log_target={self.log_target}"


class GaussianNLLLoss(Module):
    """L = (log v + (x - t)^2 / v) / 2 for a predicted mean x and variance v (heteroscedastic
    regression).

    >>> nn.GaussianNLLLoss()(mean, target, variance)
    """

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean"):
        super().__init__()
        self.full, self.eps = bool(full), float(eps)
        self.reduction = one_of("GaussianNLLLoss", "reduction", reduction, F.REDUCTIONS)

    def forward(self, input: Tensor, target, var) -> Tensor:
        return gaussian_nll_loss(input, target, var, self.full, self.eps, self.reduction)

    def extra_repr(self) -> str:
        return f"full={self.full}, eps={self.eps}, reduction={self.reduction!r}"


class PoissonNLLLoss(Module):
    """L = e^x - t x for a predicted log-rate x and counts t (``log_input=False``: the rate).

    >>> nn.PoissonNLLLoss()(log_rates, counts)
    """

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None,
                 eps: float = 1e-8, reduce=None, reduction: str = "mean"):
        super().__init__()
        self.log_input, self.full, self.eps = bool(log_input), bool(full), float(eps)
        self.reduction = one_of("PoissonNLLLoss", "reduction",
                                F.legacy_reduction(size_average, reduce, reduction),
                                F.REDUCTIONS)

    def forward(self, log_input: Tensor, target) -> Tensor:
        return poisson_nll_loss(log_input, target, self.log_input, self.full, eps=self.eps,
                                reduction=self.reduction)

    def extra_repr(self) -> str:
        return (f"log_input={self.log_input}, full={self.full}, eps={self.eps}, "
                f"reduction={self.reduction!r}")
