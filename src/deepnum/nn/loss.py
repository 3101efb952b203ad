"""Loss layers: each holds its options and calls the function in :mod:`deepnum.nn.functional`."""

from __future__ import annotations

from deepnum.nn import functional as F
from deepnum.nn._validate import one_of
from deepnum.nn.module import Module
from deepnum.tensor import Tensor

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = one_of(type(self).__name__, "reduction", reduction, _REDUCTIONS)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """Square loss: L = mean_i (y_i - t_i)^2.

    >>> nn.MSELoss()(dn.tensor([0.4, 0.6]), dn.tensor([0.0, 1.0]))   # 0.16
    """

    def forward(self, input: Tensor, target: Tensor) -> Tensor:
        return F.mse_loss(input, target, self.reduction)


class CrossEntropyLoss(_Loss):
    """Cross-entropy of logits: L = -sum_c q_c log softmax(z)_c, fused and stable.

    >>> loss = nn.CrossEntropyLoss()(logits, labels)     # logits (N, C), labels (N,) ints
    """

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0):
        super().__init__(reduction)
        if not 0 <= label_smoothing <= 1:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], "
                             f"got {label_smoothing!r}")
        self.weight, self.ignore_index, self.label_smoothing = weight, ignore_index, label_smoothing

    def forward(self, input: Tensor, target) -> Tensor:
        return F.cross_entropy(input, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)
