"""Losses on pairs and triplets of embeddings: learn a space where similar things are close.

    cosine embedding:  1 - cos(x1, x2) if y = 1,   max(0, cos(x1, x2) - margin) if y = -1
    margin ranking:    max(0, -y (x1 - x2) + margin)      (y = 1: x1 should rank higher)
    triplet margin:    max(0, d(a, p) - d(a, n) + margin) (Schroff et al. 2015, FaceNet)

>>> nn.TripletMarginLoss(margin=1.0)(anchor, positive, negative)
"""

from __future__ import annotations

from deepnum.errors import ShapeError
from deepnum.functions import where
from deepnum.nn import functional as F
from deepnum.nn._validate import one_of
from deepnum.nn.distance import pairwise_distance
from deepnum.nn.module import Module
from deepnum.tensor import Tensor

EPSILON = 1e-12  # PyTorch's, added to the squared norms of the cosine embedding loss


def _reduction(name, size_average, reduce, reduction) -> str:
    return one_of(name, "reduction", F.legacy_reduction(size_average, reduce, reduction),
                  F.REDUCTIONS)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target, margin: float = 0,
                          size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where y = 1, max(0, cos(x1, x2) - margin) where y = -1; rows of (N, D)
    inputs (or one D-vector pair), cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12))."""
    reduction = _reduction("cosine_embedding_loss", size_average, reduce, reduction)
    if input1.shape != input2.shape or input1.ndim not in (1, 2):
        raise ShapeError(f"cosine_embedding_loss: expected two (N, D) or (D,) inputs of one "
                         f"shape, got {tuple(input1.shape)} and {tuple(input2.shape)}")
    dim = input1.ndim - 1
    y = F.target_tensor(target, input1).array
    if y.shape != input1.shape[:dim]:
        raise ShapeError(f"cosine_embedding_loss: target of shape {tuple(y.shape)} does not fit "
                         f"inputs of shape {tuple(input1.shape)}")
    products = (input1 * input2).sum(dim)
    squares = ((input1 * input1).sum(dim) + EPSILON) * ((input2 * input2).sum(dim) + EPSILON)
    cos = products / squares.sqrt()
    zero = cos * 0
    loss = where(y == 1, 1 - cos, zero) + where(y == -1, (cos - margin).clamp(min=0), zero)
    return F._reduce(loss, reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target, margin: float = 0,
                        size_average=None, reduce=None, reduction: str = "mean") -> Tensor:
    """max(0, -y (x1 - x2) + margin), y in {1, -1} (broadcast together, as PyTorch)."""
    reduction = _reduction("margin_ranking_loss", size_average, reduce, reduction)
    if not (input1.ndim == input2.ndim == Tensor._wrap(F._target_array(target, input1)).ndim):
        raise ShapeError(f"margin_ranking_loss: input1, input2 and target must have the same "
                         f"number of dimensions, got {tuple(input1.shape)}, "
                         f"{tuple(input2.shape)} and {tuple(getattr(target, 'shape', ()))}")
    y = F.target_tensor(target, input1)
    return F._reduce((-y * (input1 - input2) + margin).clamp(min=0), reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor,
                        margin: float = 1.0, p: float = 2, eps: float = 1e-6,
                        swap: bool = False, size_average=None, reduce=None,
                        reduction: str = "mean") -> Tensor:
    """max(0, d(a, p) - d(a, n) + margin) with d the pairwise p-norm distance; ``swap`` uses
    min(d(a, n), d(p, n)) as the negative distance (Balntas et al. 2016)."""
    reduction = _reduction("triplet_margin_loss", size_average, reduce, reduction)
    if not anchor.ndim == positive.ndim == negative.ndim or anchor.ndim not in (1, 2):
        raise ShapeError(f"triplet_margin_loss: expected (N, D) or (D,) anchor, positive and "
                         f"negative, got {tuple(anchor.shape)}, {tuple(positive.shape)} and "
                         f"{tuple(negative.shape)}")
    if margin <= 0:
        raise ValueError(f"triplet_margin_loss: margin must be greater than 0, got {margin}")
    d_positive = pairwise_distance(anchor, positive, p, eps)
    d_negative = pairwise_distance(anchor, negative, p, eps)
    if swap:
        d_swap = pairwise_distance(positive, negative, p, eps)
        d_negative = where(d_swap.array < d_negative.array, d_swap, d_negative)
    return F._reduce((d_positive - d_negative + margin).clamp(min=0), reduction)


class _PairLoss(Module):
    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean"):
        super().__init__()
        self.margin = float(margin)
        self.reduction = _reduction(type(self).__name__, size_average, reduce, reduction)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, reduction={self.reduction!r}"


class CosineEmbeddingLoss(_PairLoss):
    """Pull pairs with y = 1 to cosine 1, push pairs with y = -1 below cosine ``margin``:
    L = 1 - cos(x1, x2) (y = 1), max(0, cos(x1, x2) - margin) (y = -1).

    >>> nn.CosineEmbeddingLoss(margin=0.2)(x1, x2, dn.tensor([1, -1, 1]))
    """

    def forward(self, input1: Tensor, input2: Tensor, target) -> Tensor:
        return cosine_embedding_loss(input1, input2, target, self.margin,
                                     reduction=self.reduction)


class MarginRankingLoss(_PairLoss):
    """L = max(0, -y (x1 - x2) + margin): x1 should score ``margin`` above x2 where y = 1,
    below where y = -1.

    >>> nn.MarginRankingLoss(margin=0.5)(scores_a, scores_b, dn.tensor([1.0, -1.0]))
    """

    def forward(self, input1: Tensor, input2: Tensor, target) -> Tensor:
        return margin_ranking_loss(input1, input2, target, self.margin, reduction=self.reduction)


class TripletMarginLoss(Module):
    """L = max(0, d(a, p) - d(a, n) + margin): an anchor closer to its positive than to its
    negative by ``margin``, d the p-norm distance.

    >>> nn.TripletMarginLoss(margin=1.0, p=2)(anchor, positive, negative)
    """

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average=None, reduce=None, reduction: str = "mean"):
        super().__init__()
        if margin <= 0:
            raise ValueError(f"TripletMarginLoss: margin must be greater than 0, got {margin}")
        self.margin, self.p, self.eps, self.swap = float(margin), float(p), float(eps), bool(swap)
        self.reduction = _reduction("TripletMarginLoss", size_average, reduce, reduction)

    def forward(self, anchor: Tensor, positive: Tensor, negative: Tensor) -> Tensor:
        return triplet_margin_loss(anchor, positive, negative, self.margin, self.p, self.eps,
                                   self.swap, reduction=self.reduction)

    def extra_repr(self) -> str:
        return (f"margin={self.margin}, p={self.p}, eps={self.eps}, swap={self.swap}, "
                f"reduction={self.reduction!r}")
