"""Adagrad (Duchi et al. 2011): each weight's step shrinks with its summed squared gradients."""

from __future__ import annotations

import numpy as np

from deepnum.autograd import no_grad
from deepnum.optim.optimizer import Optimizer


class Adagrad(Optimizer):
    """G <- G + g^2;  w <- w - lr_t g / (sqrt(G) + eps),  lr_t = lr / (1 + (t - 1) lr_decay).

    Rarely updated weights keep large steps, often updated ones get small steps.

    >>> opt = dn.optim.Adagrad(model.parameters(), lr=1e-2)
    """

    state_kinds = {"step": "count", "sum": "param"}

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10,
                 maximize: bool = False):
        if initial_accumulator_value < 0:
            raise ValueError(f"Adagrad: initial_accumulator_value must be >= 0, "
                             f"got {initial_accumulator_value!r}")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))
        for group in self.param_groups:  # the sums exist from the start, as in PyTorch
            for p in group["params"]:
                self.state[id(p)] = dict(step=0, sum=np.full_like(
                    p.array, group["initial_accumulator_value"]))

    def required_state(self, group: dict) -> tuple[str, ...]:
        return ("step", "sum")

    @no_grad()
    def step(self, closure=None):
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, eps = group["lr"], group["eps"]
            for p, g, state in self._params_with_grad(group):
                if not state:  # a group added after construction
                    start = group["initial_accumulator_value"]
                    state.update(step=0, sum=np.full_like(p.array, start))
                if group["maximize"]:
                    g = -g
                if group["weight_decay"]:
                    g = g + group["weight_decay"] * p.array             # L2 penalty's gradient
                state["step"] += 1
                clr = lr / (1 + (state["step"] - 1) * group["lr_decay"])  # decayed learning rate
                state["sum"] += g * g                                  # G = G + g^2
                p.array -= clr * g / (np.sqrt(state["sum"]) + eps)    # w -= lr_t g / (sqrt(G)+eps)
        return loss
