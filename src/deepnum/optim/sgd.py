"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay (as PyTorch)."""

from __future__ import annotations

from deepnum import fast
from deepnum.autograd import no_grad
from deepnum.optim.optimizer import Optimizer


def sgd(p, g, buf, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """One SGD step on one parameter's array ``p`` with gradient ``g``, in place; returns the
    momentum buffer (created on the first step, None without momentum)."""
    if maximize:
        g = -g
    if weight_decay:
        g = g + weight_decay * p                   # L2 penalty's gradient: lambda * w
    if momentum:
        if buf is None:
            buf = g.copy()                         # first step: v = g
        else:
            buf *= momentum                        # v = mu v + (1 - d) g, in place
            buf += (1 - dampening) * g if dampening else g
        g = g + momentum * buf if nesterov else buf
    p -= lr * g                                    # w <- w - lr v
    return buf


class SGD(Optimizer):
    """w <- w - lr * v, where v accumulates gradients (momentum) or is the gradient itself.

    >>> opt = dn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    state_kinds = {"momentum_buffer": "param"}
    suggested_lr = 0.05

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            hyper = {k: group[k] for k in ("lr", "momentum", "dampening", "weight_decay",
                                           "nesterov", "maximize")}
            for p, g, state in self._params_with_grad(group):
                buf = state.get("momentum_buffer")
                rule = fast.choose(sgd, p.array, g, buf)
                buf = rule(p.array, g, buf, **hyper)
                if buf is not None:
                    state["momentum_buffer"] = buf
        return loss
