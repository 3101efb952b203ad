"""``torch.autograd.functional``: Jacobians, Hessians and their products with vectors, built on
:func:`deepnum.autograd.grad` (a Jacobian row per output element; Hessians by differentiating the
gradient, ``create_graph=True``).

>>> jacobian(lambda x: x ** 2, dn.tensor([1.0, 2.0]))     # tensor([[2., 0.], [0., 4.]])
>>> hvp(lambda x: (x ** 3).sum(), x, v)                    # (f(x), H v)
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.engine import grad
from deepnum.autograd.grad_mode import enable_grad
from deepnum.tensor import Tensor


def _inputs(inputs) -> tuple[tuple, bool]:
    single = isinstance(inputs, Tensor)
    xs = (inputs,) if single else tuple(inputs)
    return tuple(x.detach().requires_grad_(True) for x in xs), single


def _grads(outputs, xs, grad_outputs, create_graph):
    """The gradients of ``outputs`` (weighted by ``grad_outputs``), zeros where unused."""
    gs = grad(outputs, xs, grad_outputs, retain_graph=True, create_graph=create_graph,
              allow_unused=True)
    return tuple(Tensor._wrap(np.zeros_like(x.array)) if g is None else g
                 for g, x in zip(gs, xs))


def _out(values, single: bool, create_graph: bool):
    values = tuple(v if create_graph else v.detach() for v in values)
    return values[0] if single else values


def vjp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), v^T J)."""
    xs, single = _inputs(inputs)
    with enable_grad():
        out = func(*xs)
        if v is None and out.numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function "
                               "returns a single Tensor with a single element.")
        gs = _grads(out, xs, None if v is None else [v], create_graph)
    return out if create_graph else out.detach(), _out(gs, single, create_graph)


def jacobian(func, inputs, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode"):
    """d func / d inputs: for one input and one output, a tensor of shape out.shape + x.shape
    (tuples of those for several inputs or outputs)."""
    xs, single = _inputs(inputs)
    with enable_grad():
        out = func(*xs)
        outs = (out,) if isinstance(out, Tensor) else tuple(out)
        result = []
        for o in outs:
            rows = []
            flat = o.reshape(-1)
            for k in range(flat.shape[0]):  # one backward per output element
                rows.append(_grads(flat[k], xs, None, create_graph))
            per_input = []
            for i, x in enumerate(xs):
                stacked = [r[i].reshape(-1) for r in rows]
                from deepnum.functions import stack

                j = stack(stacked) if stacked else Tensor._wrap(
                    np.zeros((0, x.numel()), x.array.dtype))
                j = j.reshape(tuple(o.shape) + tuple(x.shape))
                per_input.append(j if create_graph else j.detach())
            result.append(per_input[0] if single else tuple(per_input))
    return result[0] if isinstance(out, Tensor) else tuple(result)


def hessian(func, inputs, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode"):
    """The Hessian of a scalar func: the Jacobian of its gradient."""
    xs, single = _inputs(inputs)

    def gradient(*args):
        out = func(*args)
        gs = _grads(out, args, None, True)
        return gs[0] if single else gs

    if single:
        return jacobian(gradient, xs[0], create_graph=create_graph)
    rows = jacobian(gradient, xs, create_graph=create_graph)
    return tuple(tuple(r) for r in rows)


def hvp(func, inputs, v, create_graph: bool = False, strict: bool = False):
    """(func(inputs), H v) without forming H: the gradient of (grad . v)."""
    xs, single = _inputs(inputs)
    vs = (v,) if isinstance(v, Tensor) else tuple(v)
    with enable_grad():
        out = func(*xs)
        gs = _grads(out, xs, None, True)
        dot = sum((g * u).sum() for g, u in zip(gs, vs))
        hv = _grads(dot, xs, None, create_graph)
    return out if create_graph else out.detach(), _out(hv, single, create_graph)


def vhp(func, inputs, v, create_graph: bool = False, strict: bool = False):
    """v^T H, which is H v (a Hessian is symmetric)."""
    return hvp(func, inputs, v, create_graph, strict)


def jvp(func, inputs, v=None, create_graph: bool = False, strict: bool = False):
    """(func(inputs), J v), by the double-vjp trick: J v = d/du (u^T J) . v."""
    xs, single = _inputs(inputs)
    vs = (v,) if isinstance(v, Tensor) else tuple(v)
    with enable_grad():
        out = func(*xs)
        u = Tensor._wrap(np.zeros_like(out.array)).requires_grad_(True)
        gs = _grads(out, xs, [u], True)
        dot = sum((g * w).sum() for g, w in zip(gs, vs))
        (jv,) = _grads(dot, (u,), None, create_graph)
    return out if create_graph else out.detach(), jv if create_graph else jv.detach()
