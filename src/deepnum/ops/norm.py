"""Batch normalisation in training mode, fused: the forward and its closed-form backward.

Over the batch (and spatial) axes, per channel c:

    mu = mean(x),  var = mean((x - mu)^2),  x_hat = (x - mu) / sqrt(var + eps),
    y = gamma x_hat + beta

Composed from primitives this would keep a dozen intermediates; fused, the backward is one formula:

    dx = (1 / sqrt(var + eps)) * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)),
    dx_hat = gamma * dy,  dgamma = sum(dy * x_hat),  dbeta = sum(dy).

Evaluation mode (running statistics) is a fixed affine map and is composed in the functional layer.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function


def _channel_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """sum over every axis but 1 of a * b, without materialising the product."""
    axes = "nc" + "hwdt"[:a.ndim - 2]  # explicit letters: no reshape, which would copy a
    return np.einsum(f"{axes},{axes}->c", a, b)  # batch-last conv output (see ops/conv.py)


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
        if running_mean is not None:
            running_mean *= 1 - momentum
            running_mean += momentum * mean.reshape(-1)
        if running_var is not None:
            running_var *= 1 - momentum
            running_var += momentum * var.reshape(-1) * (count / max(count - 1, 1))
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
