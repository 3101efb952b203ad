"""Adam (Kingma & Ba 2015): momentum on the gradient, a per-weight step size from its square."""

from __future__ import annotations

import math
import numbers

import numpy as np

from deepnum import fast
from deepnum.autograd import no_grad
from deepnum.optim.optimizer import Optimizer


def check_betas(name: str, betas) -> tuple[float, float]:
    betas = tuple(betas) if isinstance(betas, (tuple, list)) else (betas,)
    if len(betas) != 2 or not all(isinstance(b, numbers.Real) and not isinstance(b, bool)
                                  and 0.0 <= b < 1.0 for b in betas):
        raise ValueError(f"{name}: betas must be two numbers in [0, 1), got {betas!r}")
    return betas


class Adam(Optimizer):
    """m <- b1 m + (1-b1) g;  v <- b2 v + (1-b2) g^2;  w <- w - lr m_hat / (sqrt(v_hat) + eps),
    with the bias corrections m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t). ``weight_decay``
    adds wd * w to the gradient (L2, coupled); AdamW decouples it.

    >>> opt = dn.optim.Adam(model.parameters(), lr=1e-3)
    """

    decoupled_weight_decay = False
    state_kinds = {"step": "count", "exp_avg": "param", "exp_avg_sq": "param",
                   "max_exp_avg_sq": "param"}

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False):
        betas = check_betas(type(self).__name__, betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        group["betas"] = check_betas(type(self).__name__, group["betas"])

    def required_state(self, group: dict) -> tuple[str, ...]:
        amsgrad = ("max_exp_avg_sq",) if group["amsgrad"] else ()
        return ("step", "exp_avg", "exp_avg_sq") + amsgrad

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
            hyper = dict(lr=lr, beta1=b1, beta2=b2, eps=eps, weight_decay=group["weight_decay"],
                         amsgrad=group["amsgrad"], maximize=group["maximize"],
                         decoupled=self.decoupled_weight_decay)
            for p, g, state in self._params_with_grad(group):
                if not state:
                    state.update(step=0, exp_avg=np.zeros_like(p.array),
                                 exp_avg_sq=np.zeros_like(p.array))
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = np.zeros_like(p.array)
                state["step"] += 1
                buffers = (state["exp_avg"], state["exp_avg_sq"], state.get("max_exp_avg_sq"))
                rule = fast.choose(adam, p.array, g, *buffers)
                rule(p.array, g, *buffers, step=state["step"], **hyper)
        return loss


def adam(p, g, m, v, vmax, step, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize,
         decoupled):
    """One Adam step on one parameter's array ``p``, in place (m, v, vmax updated too)."""
    if maximize:
        g = -g
    if weight_decay and decoupled:
        p *= 1 - lr * weight_decay                         # AdamW: w <- w (1 - lr wd)
    elif weight_decay:
        g = g + weight_decay * p                           # Adam: L2 penalty's gradient
    m *= beta1
    m += (1 - beta1) * g                                   # m = b1 m + (1 - b1) g
    v *= beta2
    v += (1 - beta2) * g * g                               # v = b2 v + (1 - b2) g^2
    if amsgrad:
        np.maximum(vmax, v, out=vmax)
        v = vmax                                           # v = max of all v so far
    step_size = lr / (1 - beta1**step)                     # lr / (1 - b1^t): m_hat
    denom = np.sqrt(v) / math.sqrt(1 - beta2**step) + eps  # sqrt(v_hat) + eps
    p -= step_size * m / denom                             # w -= lr m_hat / denom
