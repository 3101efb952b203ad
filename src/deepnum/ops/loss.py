"""Fused losses: log-softmax + negative log-likelihood in one op, stable and one pass each way."""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.ops import constant


class CrossEntropy(Function):
    """Cross-entropy of logits (N, C) against class indices (N,), PyTorch's exact semantics.

    loss_i = (1-eps) * w[y_i] * -log p_i[y_i] + eps/C * sum_c w_c * -log p_ic,   p = softmax(z_i)
    and its gradient is the lecture's p - q (scaled by the weights), with q the smoothed target.
    'mean' divides by the summed weight of the non-ignored targets, as torch.nn.CrossEntropyLoss.
    """

    saves = ()

    def forward(self, logits, target=None, weight=None, ignore_index=-100, label_smoothing=0.0,
                reduction="mean"):
        n, c = logits.shape
        shifted = logits - logits.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        self.plain = (weight is None and not label_smoothing and reduction == "mean" and n > 0
                      and not 0 <= ignore_index < c and 0 <= target.min() and target.max() < c)
        if self.plain:
            # the training loop's case (no weights, smoothing or ignored targets): the same value
            # in a third of the NumPy calls, which shows at small batches
            log_likelihood = shifted[np.arange(n), target].sum() - np.log(total).sum()
            exp /= total
            self.p, self.safe, self.denominator = exp, target, n
            return np.asarray(-log_likelihood / n, dtype=logits.dtype)
        logp = shifted - np.log(total)
        valid = target != ignore_index
        safe = np.where(valid, target, 0)
        if np.any((safe < 0) | (safe >= c)):
            bad = target[valid & ((target < 0) | (target >= c))][0]
            raise IndexError(f"cross_entropy: target {bad} is out of bounds for {c} classes")
        rows = np.arange(n)
        w_y = valid.astype(logits.dtype) if weight is None else weight[safe] * valid
        loss = -logp[rows, safe] * w_y
        if label_smoothing:
            smooth = -(logp.sum(axis=1) if weight is None else logp @ weight) * valid
            loss = (1 - label_smoothing) * loss + (label_smoothing / c) * smooth
        self.p, self.safe, self.valid, self.w_y = exp / total, safe, valid, w_y
        self.weight, self.eps, self.reduction = weight, label_smoothing, reduction
        if reduction == "none":
            return loss
        if reduction == "sum":
            return np.asarray(loss.sum(), dtype=logits.dtype)
        self.denominator = w_y.sum()
        return np.asarray(loss.sum() / self.denominator, dtype=logits.dtype)

    def backward(self, g):
        p, n, c = self.p, self.p.shape[0], self.p.shape[1]
        if self.plain:  # (p - onehot(y)) * g / N
            grad = p.copy()
            grad[np.arange(n), self.safe] -= 1
            grad *= g / np.asarray(n, dtype=p.dtype)
            return grad
        onehot_term = p.copy()
        onehot_term[np.arange(n), self.safe] -= 1
        grad = onehot_term * ((1 - self.eps) * self.w_y)[:, None]
        if self.eps:
            if self.weight is None:
                smooth = c * p - 1
            else:
                smooth = p * self.weight.sum() - self.weight
            grad += (self.eps / c) * smooth * self.valid[:, None]
        if self.reduction == "none":
            return grad * g[:, None]
        if self.reduction == "mean":
            g = g / self.denominator
        return grad * g

    def vjp(self, g):
        from deepnum.ops.reduce import Softmax

        p = Softmax.apply(self.parents[0], axis=1)
        n, c = p.shape
        onehot = np.zeros((n, c), dtype=p.array.dtype)
        onehot[np.arange(n), self.safe] = 1
        if self.plain:
            return (p - constant(onehot)) * (g / n)
        grad = (p - constant(onehot)) * constant(((1 - self.eps) * self.w_y)[:, None])
        if self.eps:
            w = self.weight
            smooth = p * c - 1 if w is None else p * float(w.sum()) - constant(w)
            grad = grad + smooth * constant((self.eps / c) * self.valid[:, None].astype(p.dtype))
        if self.reduction == "none":
            return grad * g.unsqueeze(1)
        return grad * (g / float(self.denominator) if self.reduction == "mean" else g)


class BinaryCrossEntropy(Function):
    """Elementwise -(t log y + (1 - t) log(1 - y)) of probabilities y, with each log clamped at
    -100 as PyTorch does, so y = 0 or 1 gives a large finite loss instead of inf.

    The gradient is (y - t) / (y (1 - y)), its denominator kept >= 1e-12 (PyTorch's EPSILON).
    """

    saves = (0, 1)

    def forward(self, y, t):
        if y.size and (y.min() < 0 or y.max() > 1):
            raise ValueError("binary_cross_entropy: every input must be a probability in [0, 1] "
                             "(apply sigmoid first, or use binary_cross_entropy_with_logits)")
        with np.errstate(divide="ignore"):
            log_y = np.maximum(np.log(y), -100)
            log_1my = np.maximum(np.log1p(-y), -100)
        self.y, self.t, self.logs = y, t, (log_y, log_1my)
        return -(t * log_y + (1 - t) * log_1my)

    def backward(self, g):
        y = self.y
        denominator = np.maximum((1 - y) * y, np.asarray(1e-12, dtype=y.dtype))
        # a soft target's gradient (PyTorch's too): d/dt = log(1 - y) - log y, both clamped
        gt = g * (self.logs[1] - self.logs[0]) if self.needs_input_grad[1] else None
        return g * (y - self.t) / denominator, gt

    def vjp(self, g):
        y, t = self.parents
        denominator = ((1 - y) * y).clamp(min=1e-12)
        gt = g * ((-y).log1p().clamp(min=-100) - y.log().clamp(min=-100))
        return g * (y - t) / denominator, gt
