"""Loss layers: each holds its options and calls the function in :mod:`deepnum.nn.functional`."""

from __future__ import annotations

import numpy as np

from deepnum.nn import functional as F
from deepnum.nn._validate import non_negative, one_of
from deepnum.nn.module import Module
from deepnum.tensor import Tensor


class _Loss(Module):
    def __init__(self, reduction: str = "mean"):
        super().__init__()
        self.reduction = one_of(type(self).__name__, "reduction", reduction, F.REDUCTIONS)

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


def _weight_array(weight):
    return None if weight is None else np.asarray(getattr(weight, "data", weight))


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities: L_i = -w[y_i] log p_i[y_i].

    Pair it with ``LogSoftmax`` (CrossEntropyLoss fuses the two).

    >>> nn.NLLLoss()(F.log_softmax(logits, 1), labels)
    """

    def __init__(self, weight=None, ignore_index: int = -100, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight, self.ignore_index = _weight_array(weight), ignore_index

    def forward(self, input: Tensor, target) -> Tensor:
        return F.nll_loss(input, target, self.weight, self.ignore_index, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities: L = -w (t log y + (1 - t) log(1 - y)), each log
    clamped at -100 as in PyTorch.

    >>> nn.BCELoss()(dn.tensor([0.9, 0.2]), dn.tensor([1.0, 0.0]))   # 0.1643
    """

    def __init__(self, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        self.weight = _weight_array(weight)

    def forward(self, input: Tensor, target) -> Tensor:
        return F.binary_cross_entropy(input, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """The logistic loss on logits: L = -w [p t log sigma(z) + (1 - t) log(1 - sigma(z))], fused
    and stable for any z; ``pos_weight`` p weights the positive class.

    >>> nn.BCEWithLogitsLoss()(dn.tensor([2.0, -1.0]), dn.tensor([1.0, 0.0]))   # 0.2201
    """

    def __init__(self, weight=None, reduction: str = "mean", pos_weight=None):
        super().__init__(reduction)
        self.weight, self.pos_weight = _weight_array(weight), _weight_array(pos_weight)

    def forward(self, input: Tensor, target) -> Tensor:
        return F.binary_cross_entropy_with_logits(input, target, self.weight, self.reduction,
                                                  self.pos_weight)


class HingeLoss(_Loss):
    """Binary hinge loss, labels t in {-1, +1}: L = mean_i max(0, margin - t_i y_i), margin 1 as
    in the lecture (the SVM's loss).

    >>> nn.HingeLoss()(dn.tensor([0.5, -2.0]), dn.tensor([1.0, -1.0]))   # 0.25
    """

    def __init__(self, margin: float = 1.0, reduction: str = "mean"):
        super().__init__(reduction)
        self.margin = non_negative("HingeLoss", "margin", margin)

    def forward(self, input: Tensor, target) -> Tensor:
        return F.hinge_loss(input, target, self.margin, self.reduction)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, reduction={self.reduction!r}"


class MultiMarginLoss(_Loss):
    """Multi-class hinge loss: L_n = sum_{i != y_n} w[y_n] max(0, margin - z_{y_n} + z_i)^p / C.

    >>> nn.MultiMarginLoss()(dn.tensor([[0.1, 0.2, 0.4, 0.8]]), dn.tensor([3]))   # 0.325
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, reduction: str = "mean"):
        super().__init__(reduction)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: p must be 1 or 2, got {p!r}")
        self.p, self.margin, self.weight = p, float(margin), _weight_array(weight)

    def forward(self, input: Tensor, target) -> Tensor:
        return F.multi_margin_loss(input, target, self.p, self.margin, self.weight, self.reduction)

    def extra_repr(self) -> str:
        return f"p={self.p}, margin={self.margin}, reduction={self.reduction!r}"
