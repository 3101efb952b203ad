"""Adam (Kingma & Ba 2015): momentum on the gradient, a per-weight step size from its square."""

from __future__ import annotations

import math

import numpy as np

from deepnum import jit
from deepnum.autograd import no_grad
from deepnum.optim.optimizer import Optimizer, fits_kernel, flat


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
    def step(self) -> None:
        use_kernel = jit.enabled()
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p, g, state in self._params_with_grad(group):
                if not state:
                    state.update(step=0, exp_avg=np.zeros_like(p.array),
                                 exp_avg_sq=np.zeros_like(p.array))
                    if group["amsgrad"]:
                        state["max_exp_avg_sq"] = np.zeros_like(p.array)
                m, v = state["exp_avg"], state["exp_avg_sq"]
                state["step"] += 1
                t = state["step"]
                if use_kernel and fits_kernel(p.array, g, m, v):
                    self._kernel_step(group, p.array, g, state, t)
                    continue
                if group["maximize"]:
                    g = -g
                if wd and self.decoupled_weight_decay:
                    p.array *= 1 - lr * wd                          # AdamW: w <- w (1 - lr wd)
                elif wd:
                    g = g + wd * p.array                            # Adam: L2 penalty's gradient
                m *= b1
                m += (1 - b1) * g                                  # m = b1 m + (1 - b1) g
                v *= b2
                v += (1 - b2) * g * g                              # v = b2 v + (1 - b2) g^2
                if group["amsgrad"]:
                    np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
                    v = state["max_exp_avg_sq"]                    # v = max of all v so far
                step_size = lr / (1 - b1**t)                       # lr / (1 - b1^t): m_hat
                denom = np.sqrt(v) / math.sqrt(1 - b2**t) + eps    # sqrt(v_hat) + eps
                p.array -= step_size * m / denom                    # w -= lr m_hat / denom

    def _kernel_step(self, group: dict, p, g, state: dict, t: int) -> None:
        """The update above in one compiled pass, its scalars cast to the weights' precision
        exactly where NumPy casts them, so the numbers are the same."""
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        decoupled = bool(wd) and self.decoupled_weight_decay
        vmax = state.get("max_exp_avg_sq", state["exp_avg_sq"])
        _adam_kernel(*flat(p, g, state["exp_avg"], state["exp_avg_sq"], vmax),
                     *map(p.dtype.type, (b1, 1 - b1, b2, 1 - b2, lr / (1 - b1**t),
                                         math.sqrt(1 - b2**t), eps, wd, 1 - lr * wd)),
                     bool(wd) and not decoupled, decoupled, group["amsgrad"], group["maximize"])


@jit.kernel("p[n] g[n] m[n] v[n] vmax[n]")
def _adam_kernel(p, g, m, v, vmax, b1, one_minus_b1, b2, one_minus_b2, step_size, bias2_sqrt,
                 eps, wd, shrink, coupled, decoupled, amsgrad, maximize):
    """Adam.step for one parameter in one pass over flat p, g, m, v (NumPy's path makes about a
    dozen, each with a temporary): the same float operations in the same order."""
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
