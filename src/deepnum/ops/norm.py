"""Batch normalisation in training mode, fused: the forward and its closed-form backward.

Over the batch (and spatial) axes, per channel c:

    mu = mean(x),  var = mean((x - mu)^2),  x_hat = (x - mu) / sqrt(var + eps),
    y = gamma x_hat + beta

Composed from primitives this would keep a dozen intermediates; fused, the backward is one formula:

    dx = (1 / sqrt(var + eps)) * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)),
    dx_hat = gamma * dy,  dgamma = sum(dy * x_hat),  dbeta = sum(dy).

Evaluation mode (running statistics mu, var) is a fixed affine map per channel, computed as
PyTorch's CPU kernel computes it (the numbers agree with its to the rounding of a multiply-add):

    alpha = gamma / sqrt(var + eps),  beta' = beta - mu alpha,  y = x alpha + beta'
    dx = alpha dy,  dgamma = sum(dy (x - mu)) / sqrt(var + eps),  dbeta = sum(dy).
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function
from deepnum.ops import constant


def _channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum over every axis but 1 of a * b, without materialising the product."""
    axes = "nc" + "hwdt"[:a.ndim - 2]  # explicit letters: no reshape, which would copy a
    return np.einsum(f"{axes},{axes}->c", a, b)  # batch-last conv output (see ops/conv.py)


def update_running_stats(running_mean, running_var, mean, var, momentum, count) -> None:
    """r <- (1 - momentum) r + momentum * stat in place, for each running array given, with the
    batch's biased variance ``var`` made unbiased (n / (n - 1)), as PyTorch."""
    if running_mean is not None:
        running_mean *= 1 - momentum
        running_mean += momentum * mean
    if running_var is not None:
        running_var *= 1 - momentum
        running_var += momentum * var * (count / max(count - 1, 1))


class BatchNorm(Function):
    """Normalise x (N, C, *) over every axis but 1 with the batch's statistics.

    When ``running_mean``/``running_var`` arrays are given they are updated in place, as PyTorch
    does: r <- (1 - momentum) r + momentum * stat, with the *unbiased* batch variance.
    """

    def forward(self, x, weight=None, bias=None, eps=1e-5, momentum=0.1, running_mean=None,
                running_var=None):
        axes = (0,) + tuple(range(2, x.ndim))
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        count = x.size // x.shape[1]
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        var = _channel_dot(xc, xc).reshape(shape) / count  # biased, one pass
        invstd = 1.0 / np.sqrt(var + np.asarray(eps, dtype=x.dtype))
        xc *= invstd  # xc is now x_hat
        update_running_stats(running_mean, running_var, mean.reshape(-1), var.reshape(-1),
                             momentum, count)
        self.xhat, self.invstd, self.weight, self.axes = xc, invstd, weight, axes
        if weight is None:
            return xc.copy() if self.needs_input_grad else xc
        out = xc * weight.reshape(shape)
        out += bias.reshape(shape)  # in place: one full-size array less than `xc * w + b`
        return out

    def backward(self, g):
        xhat, invstd, weight, axes = self.xhat, self.invstd, self.weight, self.axes
        needs = self.needs_input_grad
        shape = invstd.shape
        gbeta = g.sum(axis=axes)
        ggamma = _channel_dot(g, xhat)
        gx = None
        if needs[0]:
            count = g.size // g.shape[1]
            scale = invstd if weight is None else invstd * weight.reshape(shape)
            # dx = scale * (dy - mean(dy) - x_hat * mean(dy * x_hat)), written with few temporaries
            gx = xhat * (ggamma.reshape(shape) / count)
            gx += gbeta.reshape(shape) / count
            np.subtract(g, gx, out=gx)
            gx *= scale
        if len(needs) == 1:
            return (gx,)
        return gx, ggamma if needs[1] else None, gbeta if needs[2] else None


class BatchNormEval(Function):
    """Normalise x (N, C, *) with fixed statistics (``running_mean``, ``running_var``): two
    passes over x (a multiply and an add) instead of the four of (x - mu) / sigma * gamma + beta.
    """

    def forward(self, x, weight=None, bias=None, running_mean=None, running_var=None, eps=1e-5):
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        dtype = x.dtype
        invstd = 1 / np.sqrt(running_var.astype(dtype) + np.asarray(eps, dtype))
        mean = running_mean.astype(dtype)
        alpha = invstd if weight is None else invstd * weight
        shift = -mean * alpha if bias is None else bias - mean * alpha
        if any(self.needs_input_grad):
            self.x, self.mean, self.invstd, self.alpha = x, mean.reshape(shape), invstd, alpha
        return self.affine(x, alpha, shift)

    @staticmethod
    def affine(x, alpha, shift):
        """x * alpha + shift per channel (alpha, shift of shape (C,)), in x's memory order."""
        shape = (1, x.shape[1]) + (1,) * (x.ndim - 2)
        out = x * alpha.reshape(shape)
        out += shift.reshape(shape)
        return out

    def backward(self, g):
        needs, shape = self.needs_input_grad, self.mean.shape
        axes = (0,) + tuple(range(2, g.ndim))
        gx = g * self.alpha.reshape(shape) if needs[0] else None
        if len(needs) == 1:
            return (gx,)
        gweight = _channel_dot(g, self.x - self.mean) * self.invstd if needs[1] else None
        return gx, gweight, g.sum(axis=axes) if needs[2] else None

    def vjp(self, g):
        x, shape = self.parents[0], self.mean.shape
        invstd = constant(self.invstd.reshape(shape))
        if len(self.parents) == 1:
            return (g * invstd,)
        weight = self.parents[1].reshape(shape)
        axes = (0,) + tuple(range(2, g.ndim))
        return (g * (weight * invstd), (g * (x - constant(self.mean)) * invstd).sum(axes),
                g.sum(axes))
