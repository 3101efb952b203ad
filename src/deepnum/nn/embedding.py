"""Embedding: a lookup table that turns integer ids (words, tokens, categories) into vectors.

Looking up row i of W is the same as multiplying the one-hot vector of i by W, without building the
one-hot vector; its gradient adds the upstream gradient into the rows that were looked up (a row
used twice gets both contributions).

>>> emb = nn.Embedding(10, 3, padding_idx=0)
>>> emb(dn.tensor([[1, 2, 0]])).shape      # (1, 3, 3); the row for id 0 is zero and never trained
"""

from __future__ import annotations

import numpy as np

from deepnum.creation import empty
from deepnum.functions import where
from deepnum.nn import init
from deepnum.nn._validate import positive_int
from deepnum.nn.module import Module, Parameter
from deepnum.tensor import Tensor


def _check_padding_idx(num_embeddings: int, padding_idx):
    if padding_idx is None:
        return None
    if not -num_embeddings <= padding_idx < num_embeddings:
        raise ValueError(f"Embedding: padding_idx must be within [-{num_embeddings}, "
                         f"{num_embeddings}), got {padding_idx!r}")
    return padding_idx % num_embeddings  # torch stores it non-negative


def embedding(input, weight: Tensor, padding_idx: int | None = None) -> Tensor:
    """Rows of ``weight`` (V, D) picked by the integer ``input`` (any shape) -> (*input.shape, D).

    The row at ``padding_idx`` gets no gradient, as in ``torch.nn.functional.embedding``.
    """
    ids = np.asarray(input.array if isinstance(input, Tensor) else input)
    if ids.dtype.kind not in "iu":
        raise TypeError(f"embedding: ids must be integers, got dtype {ids.dtype}")
    vocab = weight.shape[0]
    if ids.size and (ids.min() < 0 or ids.max() >= vocab):
        bad = ids[(ids < 0) | (ids >= vocab)].flat[0]
        raise IndexError(f"embedding: id {bad} is out of range for {vocab} embeddings")
    rows = weight[ids]
    if padding_idx is None or not weight.requires_grad:
        return rows
    # same values either way; only the rows that are not padding pass a gradient back
    keep = (ids != padding_idx % vocab)[..., None]
    return where(keep, rows, rows.detach())


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, initialised N(0, 1) as in
    PyTorch; ``weight`` is (num_embeddings, embedding_dim).

    >>> emb = nn.Embedding(1000, 32)
    >>> emb(dn.tensor([[4, 8, 15], [16, 23, 42]])).shape     # (2, 3, 32)
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 device=None, dtype=None):
        super().__init__()
        self.num_embeddings = positive_int("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = positive_int("Embedding", "embedding_dim", embedding_dim)
        self.padding_idx = _check_padding_idx(num_embeddings, padding_idx)
        self.weight = Parameter(empty(num_embeddings, embedding_dim, dtype=dtype, device=device))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight.array[self.padding_idx] = 0

    def forward(self, input) -> Tensor:
        return embedding(input, self.weight, self.padding_idx)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None):
        """An Embedding holding the given (V, D) array; ``freeze`` stops it from training."""
        array = np.asarray(embeddings.array if isinstance(embeddings, Tensor) else embeddings)
        if array.ndim != 2:
            raise ValueError(f"Embedding.from_pretrained: embeddings must be 2-D, "
                             f"got shape {array.shape}")
        module = cls(array.shape[0], array.shape[1], padding_idx, dtype=array.dtype)
        module.weight.array[...] = array
        module.weight.requires_grad = not freeze
        return module

    def extra_repr(self) -> str:
        pad = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
