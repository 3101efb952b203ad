"""RMSprop (Hinton's lecture 6e): divide the gradient by a running root-mean-square of itself."""

from __future__ import annotations

import numpy as np

from deepnum.autograd import no_grad
from deepnum.optim.optimizer import Optimizer


class RMSprop(Optimizer):
    """s <- alpha s + (1 - alpha) g^2;  w <- w - lr g / (sqrt(s) + eps).

    ``centered`` divides by the running standard deviation sqrt(s - gbar^2) instead; ``momentum``
    accumulates the scaled steps in a buffer b <- mu b + g / (sqrt(s) + eps), w <- w - lr b.

    >>> opt = dn.optim.RMSprop(model.parameters(), lr=1e-2, alpha=0.99)
    """

    state_kinds = {"step": "count", "square_avg": "param", "momentum_buffer": "param",
                   "grad_avg": "param"}

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 maximize: bool = False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def required_state(self, group: dict) -> tuple[str, ...]:
        return (("step", "square_avg") + (("momentum_buffer",) if group["momentum"] > 0 else ())
                + (("grad_avg",) if group["centered"] else ()))

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, alpha, eps, mu = group["lr"], group["alpha"], group["eps"], group["momentum"]
            for p, g, state in self._params_with_grad(group):
                if not state:
                    state.update(step=0, square_avg=np.zeros_like(p.array))
                    if mu > 0:
                        state["momentum_buffer"] = np.zeros_like(p.array)
                    if group["centered"]:
                        state["grad_avg"] = np.zeros_like(p.array)
                if group["maximize"]:
                    g = -g
                if group["weight_decay"]:
                    g = g + group["weight_decay"] * p.array       # L2 penalty's gradient
                state["step"] += 1
                s = state["square_avg"]
                s *= alpha
                s += (1 - alpha) * g * g                         # s = alpha s + (1 - alpha) g^2
                if group["centered"]:
                    gbar = state["grad_avg"]
                    gbar *= alpha
                    gbar += (1 - alpha) * g                      # gbar = alpha gbar + (1-alpha) g
                    avg = np.sqrt(s - gbar * gbar) + eps         # running std of g, + eps
                else:
                    avg = np.sqrt(s) + eps                       # running RMS of g, + eps
                if mu > 0:
                    b = state["momentum_buffer"]
                    b *= mu
                    b += g / avg                                 # b = mu b + g / avg
                    p.array -= lr * b                             # w -= lr b
                else:
                    p.array -= lr * g / avg                       # w -= lr g / avg
        return loss
