"""RAdam (Liu et al. 2020): Adam whose adaptive step is switched on only once the variance of
its estimate is bounded, and then rectified; before that, momentum SGD."""

from __future__ import annotations

import math

import numpy as np

from deepnum.autograd import no_grad
from deepnum.optim.adam import check_betas
from deepnum.optim.optimizer import Optimizer, check_options, lerp_


class RAdam(Optimizer):
    """m, v as Adam; rho_inf = 2 / (1 - b2) - 1, rho_t = rho_inf - 2 t b2^t / (1 - b2^t).
    If rho_t > 5: r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)),
    w <- w - lr m_hat r sqrt(1 - b2^t) / (sqrt(v) + eps); else w <- w - lr m_hat.

    >>> opt = dn.optim.RAdam(model.parameters(), lr=1e-3)
    """

    state_kinds = {"step": "count", "exp_avg": "param", "exp_avg_sq": "param"}

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        check_options("RAdam", differentiable, capturable)
        super().__init__(params, dict(lr=lr, betas=check_betas("RAdam", betas), eps=eps,
                                      weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        group["betas"] = check_betas(type(self).__name__, group["betas"])

    def required_state(self, group: dict) -> tuple[str, ...]:
        return ("step", "exp_avg", "exp_avg_sq")

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], \
                group["weight_decay"]
            rho_inf = 2 / (1 - b2) - 1                              # the longest SMA
            for p, g, state in self._params_with_grad(group):
                if not state:
                    state.update(step=0, exp_avg=np.zeros_like(p.array),
                                 exp_avg_sq=np.zeros_like(p.array))
                state["step"] += 1
                t = state["step"]
                if group["maximize"]:
                    g = -g
                if wd and group["decoupled_weight_decay"]:
                    p.array *= 1 - lr * wd                          # w <- w (1 - lr wd)
                elif wd:
                    g = g + wd * p.array                            # L2 penalty's gradient
                m, v = state["exp_avg"], state["exp_avg_sq"]
                lerp_(m, g, 1 - b1)                                 # m = b1 m + (1 - b1) g
                v *= b2
                v += (1 - b2) * g * g                               # v = b2 v + (1 - b2) g^2
                m_hat = m / (1 - b1**t)
                rho_t = rho_inf - 2 * t * b2**t / (1 - b2**t)       # this step's SMA length
                if rho_t > 5.0:  # the variance of the adaptive rate is tractable: rectify it
                    adaptive = math.sqrt(1 - b2**t) / (np.sqrt(v) + eps)
                    rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf
                                     / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
                    p.array -= m_hat * lr * adaptive * rect
                else:
                    p.array -= m_hat * lr                           # SGD with momentum
        return loss
