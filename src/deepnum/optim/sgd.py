"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (as PyTorch)."""

from __future__ import annotations

from deepnum import jit
from deepnum.autograd import no_grad
from deepnum.optim.optimizer import Optimizer, fits_kernel, flat


class SGD(Optimizer):
    """w <- w - lr * v, where v accumulates gradients (momentum) or is the gradient itself.

    >>> opt = dn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    state_kinds = {"momentum_buffer": "param"}

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    @no_grad()
    def step(self) -> None:
        use_kernel = jit.enabled()
        for group in self.param_groups:
            lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
            dampening, nesterov, maximize = (group["dampening"], group["nesterov"],
                                             group["maximize"])
            for p, g, state in self._params_with_grad(group):
                v = state.get("momentum_buffer") if mu else None
                if use_kernel and v is not None and fits_kernel(p.array, g, v):
                    # the scalars in the weights' precision, where NumPy would cast them
                    scalars = map(g.dtype.type, (lr, mu, 1 - dampening, wd))
                    _sgd_momentum_kernel(*flat(p.array, g, v), *scalars, bool(dampening),
                                         nesterov, maximize)
                    continue
                if maximize:
                    g = -g
                if wd:
                    g = g + wd * p.array                      # L2 penalty's gradient
                if mu:
                    if v is None:
                        v = state["momentum_buffer"] = g.copy()  # first step: v = g
                    else:
                        v *= mu                                  # v = mu v + (1 - d) g, in place
                        v += (1 - dampening) * g if dampening else g
                    g = g + mu * v if nesterov else v
                p.array -= lr * g


@jit.kernel("p[n] g[n] v[n]")
def _sgd_momentum_kernel(p, g, v, lr, mu, undamped, wd, damped, nesterov, maximize):
    """The momentum update of SGD.step in one pass over flat p, g, v (NumPy's path makes three or
    more, each through memory): the same float operations in the same order, so the same
    numbers."""
    for i in range(p.size):
        gi = -g[i] if maximize else g[i]
        if wd:
            gi = gi + wd * p[i]
        vi = v[i] * mu + (undamped * gi if damped else gi)
        v[i] = vi
        p[i] -= lr * (gi + mu * vi if nesterov else vi)
