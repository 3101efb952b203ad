"""Adam (Kingma & Ba 2015): momentum on the gradient, a per-weight step size from its square."""

from __future__ import annotations

import math

import numpy as np

from deepnum.autograd import no_grad
from deepnum.optim.optimizer import Optimizer


def check_betas(name: str, betas) -> tuple[float, float]:
    betas = tuple(betas)
    if len(betas) != 2 or not all(0.0 <= b < 1.0 for b in betas):
        raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas!r}")
    return betas


class Adam(Optimizer):
    """m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;  w <- w - lr m_hat / (sqrt(v_hat) + eps),
    with the bias corrections m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t). ``weight_decay``
    adds wd * w to the gradient (L2, coupled); AdamW decouples it.

    >>> opt = dn.optim.Adam(model.parameters(), lr=1e-3)
    """

    decoupled_weight_decay = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False):
        betas = check_betas(type(self).__name__, betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        group["betas"] = check_betas(type(self).__name__, group["betas"])

    @no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p, g, state in self._params_with_grad(group):
                if not state:
                    state.update(step=0, exp_avg=np.zeros_like(p.data),
                                 exp_avg_sq=np.zeros_like(p.data))
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = np.zeros_like(p.data)
                m, v = state["exp_avg"], state["exp_avg_sq"]
                if group["maximize"]:
                    g = -g
                if wd and self.decoupled_weight_decay:
                    p.data *= 1 - lr * wd                          # AdamW: w <- w (1 - lr wd)
                elif wd:
                    g = g + wd * p.data                            # Adam: L2 penalty's gradient
                state["step"] += 1
                t = state["step"]
                m *= b1
                m += (1 - b1) * g                                  # m = b1 m + (1 - b1) g
                v *= b2
                v += (1 - b2) * g * g                              # v = b2 v + (1 - b2) g^2
                if group["amsgrad"]:
                    np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                    v = state["max_exp_avg_sq"]                    # v = max of all v so far
                step_size = lr / (1 - b1**t)                       # lr / (1 - b1^t): m_hat
                denom = np.sqrt(v) / math.sqrt(1 - b2**t) + eps    # sqrt(v_hat) + eps
                p.data -= step_size * m / denom                    # w -= lr m_hat / denom
