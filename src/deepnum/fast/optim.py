"""SGD with momentum and Adam, each parameter updated in one compiled pass (deepnum.jit) instead
of NumPy's three to a dozen passes through memory, each with a temporary. The loops do the same
float operations in the same order as the rules in :mod:`deepnum.optim`, with the scalars cast
to the weights' precision exactly where NumPy casts them, so the numbers are the same, bit for
bit (tested). Measured on the MLP: an SGD step 273 -> 147 us, Adam 995 -> 337 us (1 thread).
"""

from __future__ import annotations

import math

import numpy as np

from deepnum.fast import jit, speeds_up
from deepnum.optim import adam as adam_rule
from deepnum.optim import sgd as sgd_rule


def fits(*arrays) -> bool:
    """Whether an update kernel takes these arrays: one float dtype and one shape, C-contiguous
    (anything else runs the reference rule; the kernel's contract checks again)."""
    dtype, shape = arrays[0].dtype, arrays[0].shape
    return dtype.char in "fd" and all(a.dtype is dtype and a.shape == shape
                                      and a.flags.c_contiguous for a in arrays)


@speeds_up(sgd_rule.sgd, when=lambda p, g, buf: buf is not None and jit.enabled()
           and fits(p, g, buf))
def sgd(p, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """optim.sgd.sgd for a parameter that already has its momentum buffer."""
    scalars = map(g.dtype.type, (lr, momentum, 1 - dampening, weight_decay))
    _sgd_momentum_kernel(p.reshape(-1), g.reshape(-1), buf.reshape(-1), *scalars,
                         bool(dampening), nesterov, maximize)
    return buf


@jit.kernel("p[n] g[n] v[n]")
def _sgd_momentum_kernel(p, g, v, lr, mu, undamped, wd, damped, nesterov, maximize):
    for i in range(p.size):
        gi = -g[i] if maximize else g[i]
        if wd:
            gi = gi + wd * p[i]
        vi = v[i] * mu + (undamped * gi if damped else gi)
        v[i] = vi
        p[i] -= lr * (gi + mu * vi if nesterov else vi)


def _adam_fits(p, g, m, v, vmax):
    return jit.enabled() and fits(p, g, m, v, *(() if vmax is None else (vmax,)))


@speeds_up(adam_rule.adam, when=_adam_fits)
def adam(p, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize,
         decoupled):
    """optim.adam.adam in one pass."""
    decoupled = bool(weight_decay) and decoupled
    flat = [a.reshape(-1) for a in (p, g, m, v, v if vmax is None else vmax)]
    scalars = map(p.dtype.type, (beta1, 1 - beta1, beta2, 1 - beta2, lr / (1 - beta1**step),
                                 math.sqrt(1 - beta2**step), eps, weight_decay,
                                 1 - lr * weight_decay))
    _adam_kernel(*flat, *scalars, bool(weight_decay) and not decoupled, decoupled, amsgrad,
                 maximize)


@jit.kernel("p[n] g[n] m[n] v[n] vmax[n]")
def _adam_kernel(p, g, m, v, vmax, b1, one_minus_b1, b2, one_minus_b2, step_size, bias2_sqrt,
                 eps, wd, shrink, coupled, decoupled, amsgrad, maximize):
    for i in range(p.size):
        gi = -g[i] if maximize else g[i]
        if decoupled:
            p[i] *= shrink
        elif coupled:
            gi = gi + wd * p[i]
        mi = m[i] * b1 + one_minus_b1 * gi
        vi = v[i] * b2 + one_minus_b2 * gi * gi
        m[i] = mi
        v[i] = vi
        if amsgrad:
            before = vmax[i]
            if before > vi or before != before:  # np.maximum: the larger, and a NaN wins
                vi = before
            vmax[i] = vi
        p[i] -= step_size * mi / (np.sqrt(vi) / bias2_sqrt + eps)
