"""NAdam (Dozat 2016): Adam with Nesterov momentum, its momentum warmed up by a schedule."""

from __future__ import annotations

import numpy as np

from deepnum.autograd import no_grad
from deepnum.optim.adam import check_betas
from deepnum.optim.optimizer import Optimizer, check_options, lerp_, scalar_dtype


class NAdam(Optimizer):
    """mu_t = b1 (1 - 0.96^(t psi) / 2) (psi = ``momentum_decay``), mu_prod = prod of mu_1..mu_t;
    m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  d = sqrt(v / (1 - b2^t)) + eps;
    w <- w - lr (1 - mu_t) / (1 - mu_prod) g / d - lr mu_{t+1} / (1 - mu_prod mu_{t+1}) m / d.

    >>> opt = dn.optim.NAdam(model.parameters(), lr=2e-3)
    """

    state_kinds = {"step": "count", "exp_avg": "param", "exp_avg_sq": "param",
                   "mu_product": "scalar"}
    suggested_lr = 2e-3

    def __init__(self, params, lr: float = 2e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False):
        check_options("NAdam", differentiable, capturable)
        super().__init__(params, dict(lr=lr, betas=check_betas("NAdam", betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def _validate(self, group: dict) -> None:
        super()._validate(group)
        group["betas"] = check_betas(type(self).__name__, group["betas"])

    def required_state(self, group: dict) -> tuple[str, ...]:
        return ("step", "exp_avg", "exp_avg_sq", "mu_product")

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
            wd, psi = group["weight_decay"], group["momentum_decay"]
            for p, g, state in self._params_with_grad(group):
                if not state:  # mu_product is a scalar tensor in PyTorch: the same precision
                    state.update(step=0, exp_avg=np.zeros_like(p.array),
                                 exp_avg_sq=np.zeros_like(p.array),
                                 mu_product=np.ones((), dtype=scalar_dtype()))
                state["step"] += 1
                t = state["step"]
                if group["maximize"]:
                    g = -g
                if wd and group["decoupled_weight_decay"]:
                    p.array *= 1 - lr * wd                         # w <- w (1 - lr wd)
                elif wd:
                    g = g + wd * p.array                           # L2 penalty's gradient
                mu = b1 * (1.0 - 0.5 * 0.96 ** (t * psi))          # this step's momentum
                mu_next = b1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * psi))
                state["mu_product"] *= mu                          # mu_prod = mu_1 ... mu_t
                mu_product = float(state["mu_product"])
                m, v = state["exp_avg"], state["exp_avg_sq"]
                lerp_(m, g, 1 - b1)                                # m = b1 m + (1 - b1) g
                v *= b2
                v += (1 - b2) * g * g                              # v = b2 v + (1 - b2) g^2
                denom = np.sqrt(v / (1 - b2**t)) + eps             # sqrt(v_hat) + eps
                p.array += (-lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom  # the gradient
                p.array += (-lr * mu_next / (1.0 - mu_product * mu_next)) * m / denom  # momentum
        return loss
