"""Regularisation penalties, gradient clipping, and building a module without initialising it.

L2 (weight decay): Loss'(theta) = Loss(theta) + lambda * ||theta||_2^2 / 2, whose gradient adds
lambda * theta, so one step is theta <- (1 - eta lambda) theta - eta dLoss/dtheta: the weights
shrink ("decay") every step. ``lam * l2_penalty(params)`` gives exactly the same gradient as an
optimizer's ``weight_decay=lam`` (the 1/2 is there for that).

L1: Loss'(theta) = Loss(theta) + lambda * ||theta||_1, whose gradient adds lambda * sgn(theta): it
pushes small weights to exactly 0 (sparse weights).

>>> loss = F.cross_entropy(model(x), y) + 1e-4 * nn.utils.l2_penalty(model.parameters())
>>> nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)    # after backward, before step
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from deepnum.tensor import Tensor


def _tensors(params) -> list[Tensor]:
    if isinstance(params, Tensor):
        return [params]
    out = []
    for p in params:
        if isinstance(p, dict):  # an optimizer's parameter group
            out.extend(_tensors(p["params"]))
        else:
            out.append(p)
    return out


def l2_penalty(params) -> Tensor:
    """||theta||_2^2 / 2 = sum_i theta_i^2 / 2 over the given parameters, differentiable.

    Pass any subset (``model.fc.parameters()``, a param group dict, a single tensor) to penalise
    only those weights; ``lam * l2_penalty(ps)`` matches ``weight_decay=lam`` on the same ``ps``.
    """
    terms = [(p * p).sum() for p in _tensors(params)]
    if not terms:
        raise ValueError("l2_penalty: got no parameters")
    return sum(terms[1:], terms[0]) * 0.5


def l1_penalty(params) -> Tensor:
    """||theta||_1 = sum_i |theta_i| over the given parameters; its gradient is sgn(theta)."""
    terms = [p.abs().sum() for p in _tensors(params)]
    if not terms:
        raise ValueError("l1_penalty: got no parameters")
    return sum(terms[1:], terms[0])


def add_penalty_gradients_(parameters, l1: float = 0.0, l2: float = 0.0) -> None:
    """Add the gradient of ``l1 * ||w||_1 + l2 * ||w||^2 / 2`` to each weight's ``.grad``, in
    place: ``l1 * sign(w) + l2 * w``, the lecture's L1 and L2 (so ``l2`` is SGD's
    ``weight_decay``). Only weights (parameters with 2 or more dimensions) are penalised, not
    biases. The one implementation the Trainer, the deepnum command and the Playground use.

    >>> loss.backward(); nn.utils.add_penalty_gradients_(model.parameters(), l2=1e-3)
    """
    if not (l1 or l2):
        return
    for p in _tensors(parameters):
        if p.grad is None or p.array.ndim < 2:
            continue
        w, g = p.array, p.grad.array
        extra = l2 * w if l2 else 0
        if l1:
            extra = extra + l1 * np.sign(w)
        p.grad = Tensor._wrap(g + np.asarray(extra, dtype=g.dtype))


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> Tensor:
    """Scale all gradients together so their joint norm is at most ``max_norm`` (in place).

    The norm is taken over all gradients as if concatenated into one vector; if it exceeds
    ``max_norm``, every gradient is multiplied by max_norm / (norm + 1e-6), as in PyTorch.
    Returns the norm before clipping. ``norm_type`` may be ``float('inf')`` (the max |g|).
    """
    if not isinstance(max_norm, numbers.Real) or max_norm < 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be a non-negative number, "
                         f"got {max_norm!r}")
    norm_type = float(norm_type)
    grads = [p.grad.array for p in _tensors(parameters) if p.grad is not None]
    if not grads:
        return Tensor._wrap(np.asarray(0.0, dtype=np.float32))
    dtype = grads[0].dtype
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    else:
        per = [np.sum(np.abs(g) ** norm_type) for g in grads]
        total = float(np.sum(per)) ** (1.0 / norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the "
                           f"gradients is {total}; set error_if_nonfinite=False to clip anyway")
    coefficient = min(max_norm / (total + 1e-6), 1.0)
    for g in grads:
        g *= np.asarray(coefficient, dtype=g.dtype)
    return Tensor._wrap(np.asarray(total, dtype=dtype))


def clip_grad_value_(parameters, clip_value: float) -> None:
    """Clamp every gradient element into [-clip_value, clip_value] (in place)."""
    if not isinstance(clip_value, numbers.Real) or clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be a non-negative number, "
                         f"got {clip_value!r}")
    for p in _tensors(parameters):
        if p.grad is not None:
            np.clip(p.grad.array, -clip_value, clip_value, out=p.grad.array)


def skip_init(module_cls, *args, **kwargs):
    """``module_cls(*args, **kwargs)`` with its parameters left uninitialised (PyTorch's
    ``torch.nn.utils.skip_init``): the initialisers of ``nn.init``, which deepnum's layers use,
    do nothing meanwhile, so the weights hold whatever memory they were given. Building a large
    model then takes milliseconds, e.g. to count its parameters or to load weights into it.

    >>> model = nn.utils.skip_init(nn.Linear, 25088, 4096)   # 102,764,544 numbers, not drawn
    >>> model.weight.shape                                    # (4096, 25088)
    """
    from deepnum.nn import init
    from deepnum.nn.module import Module

    if not (isinstance(module_cls, type) and issubclass(module_cls, Module)):
        raise TypeError(f"skip_init: expected a Module class, got {module_cls!r}")
    with init.skipped():
        return module_cls(*args, **kwargs)
