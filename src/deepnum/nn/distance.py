"""Similarities and distances between vectors: cosine similarity, the p-norm distance, and
normalising to unit length. Composed from primitives (their gradients come free), with
PyTorch's eps guards against a zero vector.

    cos(x1, x2) = (x1 / max(|x1|, eps)) . (x2 / max(|x2|, eps)),
    d_p(x1, x2) = || x1 - x2 + eps ||_p

>>> F.cosine_similarity(dn.tensor([[1.0, 0.0]]), dn.tensor([[1.0, 1.0]]))   # tensor([0.7071])
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.errors import ShapeError
from deepnum.functions import broadcast_tensors, norm, where
from deepnum.nn.module import Module
from deepnum.tensor import Tensor


def vector_norm(x: Tensor, p: float, dim, keepdim: bool = False) -> Tensor:
    """||x||_p over ``dim`` whose gradient is 0 (PyTorch's), not NaN, at a zero vector: the
    root (sum |x|^p)^(1/p) has an infinite slope at 0, so it is taken only where the sum is
    not 0."""
    if p in (1, 2, 1.0, 2.0) or p == math.inf or p == -math.inf:
        return norm(x, p, dim, keepdim)
    total = (x.abs() ** p).sum(dim, keepdim)
    zero = total.array == 0
    safe = where(zero, Tensor._wrap(np.ones((), total.array.dtype)), total)
    return where(zero, total * 0, safe ** (1.0 / p))


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12,
              out=None) -> Tensor:
    """x / max(||x||_p, eps) over ``dim``: unit vectors (a zero vector stays zero)."""
    if out is not None:
        raise ValueError("normalize: out= is not supported; use the returned tensor")
    return input / vector_norm(input, p, dim, keepdim=True).clamp(min=eps)


def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """The cosine of the angle between x1 and x2 along ``dim`` (broadcast together), each
    vector's norm taken as at least eps (PyTorch's formula)."""
    try:
        x1, x2 = broadcast_tensors(x1, x2)
    except (ValueError, RuntimeError):
        raise ShapeError(f"cosine_similarity: shapes {tuple(x1.shape)} and {tuple(x2.shape)} do "
                         f"not broadcast together") from None
    unit1 = x1 / norm(x1, 2, dim, keepdim=True).clamp(min=eps)
    unit2 = x2 / norm(x2, 2, dim, keepdim=True).clamp(min=eps)
    return (unit1 * unit2).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6,
                      keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p over the last axis (eps keeps the gradient finite when x1 = x2)."""
    if x1.ndim == 0 or x2.ndim == 0:
        raise ShapeError(f"pairwise_distance: expected vectors, got shapes {tuple(x1.shape)} "
                         f"and {tuple(x2.shape)}")
    difference = x1 - x2 + eps
    if p == math.inf:
        return difference.abs().amax(-1, keepdim)
    return vector_norm(difference, p, -1, keepdim)


class CosineSimilarity(Module):
    """cos(x1, x2) along ``dim`` (see :func:`cosine_similarity`).

    >>> nn.CosineSimilarity(dim=1)(dn.randn(8, 128), dn.randn(8, 128)).shape     # (8,)
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = int(dim), float(eps)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """||x1 - x2 + eps||_p per row (see :func:`pairwise_distance`).

    >>> nn.PairwiseDistance()(dn.randn(8, 128), dn.randn(8, 128)).shape           # (8,)
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = float(p), float(eps), bool(keepdim)

    def forward(self, x1: Tensor, x2: Tensor) -> Tensor:
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
