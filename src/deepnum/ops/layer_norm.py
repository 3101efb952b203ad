"""Layer normalisation, fused: the forward over the last axes and its closed-form backward.

Over the last k axes of x (the features of one token, one sample, one group of channels):

    mu = mean(x),  var = mean((x - mu)^2),  x_hat = (x - mu) / sqrt(var + eps),
    y = gamma x_hat + beta

Composed from primitives this is a dozen ops on the activation, each a pass and a node; fused,
backward is one formula per element (the batch-norm formula, taken over other axes):

    dx = (1 / sqrt(var + eps)) (dx_hat - mean(dx_hat) - x_hat mean(dx_hat x_hat)),
    dx_hat = gamma dy,  dgamma = sum(dy x_hat),  dbeta = sum(dy)   (sums over the leading axes)

LayerNorm, GroupNorm and InstanceNorm are this op on suitably reshaped inputs. ``vjp`` writes
the same backward with tensor operations, for a second derivative.
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd import Function


class LayerNorm(Function):
    """Normalise x over its last ``dims`` axes; ``affine`` says which of weight (gamma) and bias
    (beta), shaped like those axes, follow x among the inputs."""

    def forward(self, x, *params, dims=1, eps=1e-5, affine=(False, False)):
        axes = tuple(range(x.ndim - dims, x.ndim))
        weight = params[0] if affine[0] else None
        bias = params[-1] if affine[1] else None
        mean = x.mean(axis=axes, keepdims=True)
        xhat = x - mean
        var = np.mean(xhat * xhat, axis=axes, keepdims=True)
        invstd = 1 / np.sqrt(var + np.asarray(eps, dtype=x.dtype))
        xhat *= invstd
        self.xhat, self.invstd, self.weight, self.axes = xhat, invstd, weight, axes
        out = xhat if weight is None else xhat * weight
        if bias is not None:
            out = out + bias
        return out.copy() if out is xhat and self.needs_input_grad else out

    def backward(self, g):
        xhat, invstd, weight, axes = self.xhat, self.invstd, self.weight, self.axes
        needs, (has_weight, has_bias) = self.needs_input_grad, self.attributes["affine"]
        leading = tuple(range(g.ndim - len(axes)))
        grads = [None]
        if needs[0]:
            ghat = g if weight is None else g * weight
            # dx = invstd (dx_hat - mean(dx_hat) - x_hat mean(dx_hat x_hat))
            gx = ghat - ghat.mean(axis=axes, keepdims=True)
            gx -= xhat * np.mean(ghat * xhat, axis=axes, keepdims=True)
            gx *= invstd
            grads[0] = gx
        if has_weight:
            grads.append((g * xhat).sum(axis=leading) if needs[1] else None)
        if has_bias:
            grads.append(g.sum(axis=leading) if needs[-1] else None)
        return tuple(grads)

    def vjp(self, g):
        x, params = self.parents[0], self.parents[1:]
        has_weight, has_bias = self.attributes["affine"]
        eps = self.attributes.get("eps", 1e-5)
        axes = self.axes
        leading = tuple(range(g.ndim - len(axes)))
        xc = x - x.mean(axes, keepdim=True)
        invstd = ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
        xhat = xc * invstd
        ghat = g * params[0] if has_weight else g
        gx = (ghat - ghat.mean(axes, keepdim=True)
              - xhat * (ghat * xhat).mean(axes, keepdim=True)) * invstd
        grads = [gx]
        if has_weight:
            grads.append((g * xhat).sum(leading))
        if has_bias:
            grads.append(g.sum(leading))
        return tuple(grads)
