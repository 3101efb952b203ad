"""Adadelta (Zeiler 2012): Adagrad's idea with running averages, and steps in the units of w."""

from __future__ import annotations

import numpy as np

from deepnum.autograd import no_grad
from deepnum.optim.optimizer import Optimizer, check_options


class Adadelta(Optimizer):
    """s <- rho s + (1 - rho) g^2;  dx = sqrt(u + eps) / sqrt(s + eps) * g;
    u <- rho u + (1 - rho) dx^2;  w <- w - lr dx. The ratio of two running RMS values gives the
    step its size, so ``lr`` = 1 (the default) is the paper's method.

    >>> opt = dn.optim.Adadelta(model.parameters())      # the mnist example's optimizer
    """

    state_kinds = {"step": "count", "square_avg": "param", "acc_delta": "param"}
    suggested_lr = 1.0

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False, differentiable: bool = False):
        check_options("Adadelta", differentiable, capturable)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        rho = group["rho"]
        if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: rho must be a number in [0, 1], got {rho!r}")

    def required_state(self, group: dict) -> tuple[str, ...]:
        return ("step", "square_avg", "acc_delta")

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, rho, eps = group["lr"], group["rho"], group["eps"]
            for p, g, state in self._params_with_grad(group):
                if not state:
                    state.update(step=0, square_avg=np.zeros_like(p.array),
                                 acc_delta=np.zeros_like(p.array))
                state["step"] += 1
                if group["maximize"]:
                    g = -g
                if group["weight_decay"]:
                    g = g + group["weight_decay"] * p.array       # L2 penalty's gradient
                s, u = state["square_avg"], state["acc_delta"]
                s *= rho
                s += (1 - rho) * g * g                            # s = rho s + (1 - rho) g^2
                delta = np.sqrt(u + eps) / np.sqrt(s + eps) * g   # dx = RMS(dx) / RMS(g) * g
                u *= rho
                u += (1 - rho) * delta * delta                    # u = rho u + (1 - rho) dx^2
                p.array -= lr * delta                             # w -= lr dx
        return loss
