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
import types
import warnings

import numpy as np

from deepnum import dtypes
from deepnum.functions.inplace import bump
from deepnum.nn.module import _typename
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


def _vector_norm(a: np.ndarray, norm_type: float) -> np.ndarray:
    """torch.linalg.vector_norm of an array, computed in its dtype (a 0-d array)."""
    magnitude = np.abs(a)
    if norm_type == math.inf:
        return magnitude.max(initial=0)
    if norm_type == -math.inf:
        return magnitude.min(initial=math.inf).astype(a.dtype)
    if norm_type == 0:
        return np.asarray(np.count_nonzero(a), dtype=a.dtype)
    if norm_type == 2:
        return np.sqrt(np.sum(magnitude * magnitude))
    return np.sum(magnitude**norm_type) ** (1.0 / norm_type)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: bool | None = None) -> Tensor:
    """The norm of all ``tensors`` together, as if concatenated into one vector: the norm of
    their norms, each taken in its own dtype (the result in the widest one, as PyTorch)."""
    tensors = _tensors(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return Tensor._wrap(np.asarray(0.0, dtype=dtypes.default_float()))
    norms = [np.asarray(_vector_norm(t.array, norm_type)) for t in tensors]
    dtype = np.result_type(*norms)
    total = np.asarray(_vector_norm(np.stack(norms).astype(dtype), norm_type), dtype=dtype)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           f"is non-finite, so it cannot be clipped. To disable this error and "
                           f"scale the gradients by the non-finite norm anyway, set "
                           f"`error_if_nonfinite=False`")
    return Tensor._wrap(total)


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Multiply every gradient by min(1, max_norm / (total_norm + 1e-6)), in place."""
    grads = [p.grad for p in _tensors(parameters) if p.grad is not None]
    if not grads:
        return
    total = total_norm.array if isinstance(total_norm, Tensor) else np.asarray(total_norm)
    coefficient = np.minimum(float(max_norm) / (total + 1e-6), 1.0)
    for g in grads:
        g.array *= coefficient.astype(g.array.dtype)
        bump(g)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach: bool | None = None) -> Tensor:
    """Scale all gradients together so their joint norm is at most ``max_norm`` (in place):
    g <- g * min(1, max_norm / (||g||_p + 1e-6)), the norm over all gradients as one vector
    (``norm_type`` p may be ``float('inf')``: the max |g|). Returns that norm before clipping, a
    0-d Tensor in the gradients' dtype, as PyTorch. ``foreach`` is accepted (one path here).

    >>> loss.backward(); nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0); opt.step()
    """
    if not isinstance(max_norm, numbers.Real) or max_norm < 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be a non-negative number, "
                         f"got {max_norm!r}")
    if isinstance(parameters, types.GeneratorType):
        parameters = list(parameters)
        if not parameters:
            warnings.warn("`parameters` is an empty generator, no gradient clipping will occur.",
                          stacklevel=2)
    parameters = _tensors(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach: bool | None = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value] (in place)."""
    if not isinstance(clip_value, numbers.Real) or clip_value < 0:
        raise ValueError(f"clip_grad_value_: clip_value must be a non-negative number, "
                         f"got {clip_value!r}")
    for p in _tensors(parameters):
        if p.grad is not None:
            np.clip(p.grad.array, -clip_value, clip_value, out=p.grad.array)
            bump(p.grad)


def parameters_to_vector(parameters) -> Tensor:
    """All parameters flattened and joined into one vector (differentiable)."""
    from deepnum.functions import cat

    return cat([p.reshape(-1) for p in parameters])


def vector_to_parameters(vec: Tensor, parameters) -> None:
    """Cut ``vec`` into the parameters' shapes and make each parameter's data that slice (the
    parameters then share ``vec``'s memory, as in PyTorch)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected deepnum.Tensor, but got: {_typename(vec)}")
    pointer = 0
    for p in parameters:
        n = p.array.size
        p.array = vec.array[pointer:pointer + n].reshape(p.shape)
        pointer += n


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
