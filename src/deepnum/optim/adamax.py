"""Adamax (Kingma & Ba 2015, section 7): Adam with the infinity norm in place of the RMS."""

from __future__ import annotations

import numpy as np

from deepnum.autograd import no_grad
from deepnum.optim.adam import check_betas
from deepnum.optim.optimizer import Optimizer, check_options, lerp_


class Adamax(Optimizer):
    """m <- b1 m + (1 - b1) g;  u <- max(b2 u, |g| + eps);  w <- w - lr / (1 - b1^t) * m / u.

    >>> opt = dn.optim.Adamax(model.parameters(), lr=2e-3)
    """

    state_kinds = {"step": "count", "exp_avg": "param", "exp_inf": "param"}
    suggested_lr = 2e-3

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, capturable: bool = False):
        check_options("Adamax", differentiable, capturable)
        super().__init__(params, dict(lr=lr, betas=check_betas("Adamax", betas), eps=eps,
                                      weight_decay=weight_decay, maximize=maximize))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        group["betas"] = check_betas(type(self).__name__, group["betas"])

    def required_state(self, group: dict) -> tuple[str, ...]:
        return ("step", "exp_avg", "exp_inf")

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
            for p, g, state in self._params_with_grad(group):
                if not state:
                    state.update(step=0, exp_avg=np.zeros_like(p.array),
                                 exp_inf=np.zeros_like(p.array))
                state["step"] += 1
                if group["maximize"]:
                    g = -g
                if group["weight_decay"]:
                    g = g + group["weight_decay"] * p.array        # L2 penalty's gradient
                m, u = state["exp_avg"], state["exp_inf"]
                lerp_(m, g, 1 - b1)                                # m = b1 m + (1 - b1) g
                u *= b2
                np.maximum(u, np.abs(g) + eps, out=u)              # u = max(b2 u, |g| + eps)
                step_size = lr / (1 - b1 ** state["step"])         # the bias correction of m
                p.array += -step_size * m / u                      # w -= lr m_hat / u
        return loss
