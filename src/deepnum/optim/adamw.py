"""AdamW (Loshchilov & Hutter 2019): Adam with the weight decay taken out of the gradient."""

from __future__ import annotations

from deepnum.optim.adam import Adam


class AdamW(Adam):
    """Adam whose weight decay shrinks the weights directly, w <- w (1 - lr wd), before the Adam
    step, instead of adding wd * w to the gradient (where Adam's scaling would weaken it).

    >>> opt = dn.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-2)
    """

    decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)
