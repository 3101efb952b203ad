"""Check hand-written gradients against central finite differences, in float64.

A layer's backward is right when, for every input element x_i,

    d f / d x_i  ~=  (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

``gradcheck`` compares the two for every floating input that requires a gradient and, when ``fn``
is a Module, for every one of its parameters. A non-scalar output is reduced to the scalar
sum(w * out) with fixed random weights w, so every output element takes part. Random layers
(dropout) are made deterministic by restarting deepnum's generator from the same state before each
evaluation; the generator's state, the parameters and their gradients are restored afterwards.

>>> x = dn.randn(4, 3, dtype=dn.float64, requires_grad=True)
>>> dn.gradcheck(lambda t: (t.tanh() * t).sum(1), [x])          # True, or raises GradcheckError
"""

from __future__ import annotations

import numpy as np

from deepnum import random as dn_random
from deepnum.autograd import enable_grad, no_grad
from deepnum.tensor import Tensor


class GradcheckError(AssertionError):
    """The analytic gradient disagrees with the finite-difference one."""


def _as_inputs(inputs) -> list:
    if isinstance(inputs, (Tensor, np.ndarray)):
        inputs = [inputs]
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            if x.dtype.kind == "f":
                out.append(Tensor(x.array.astype(np.float64), requires_grad=x.requires_grad))
            else:
                out.append(x)
        elif isinstance(x, np.ndarray) and x.dtype.kind == "f":
            out.append(Tensor(x.astype(np.float64), requires_grad=True))
        else:
            out.append(x)
    if not any(isinstance(x, Tensor) and x.requires_grad for x in out):
        # nothing marked: check every floating input
        for x in out:
            if isinstance(x, Tensor) and x.dtype.kind == "f":
                x.requires_grad = True
    return out


def _scalar(output, weights: list) -> Tensor:
    outs = list(output) if isinstance(output, (tuple, list)) else [output]
    if not weights:
        rng = np.random.default_rng(1234)
        weights.extend(rng.standard_normal(o.shape) for o in outs)
    total = None
    for o, w in zip(outs, weights):
        term = (o * Tensor._wrap(w.astype(o.dtype))).sum()
        total = term if total is None else total + term
    return total


def gradcheck(fn, inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3) -> bool:
    """Return True if every analytic gradient matches central differences, else raise
    :class:`GradcheckError` naming the worst element (analytic vs numeric).

    ``fn`` is a function or a Module; ``inputs`` a tensor, an ndarray or a list of them. Floating
    inputs are copied to float64; those with ``requires_grad`` are checked (all floating ones if
    none is marked), plus the parameters of a Module that require a gradient.
    """
    from deepnum.nn.module import Module  # the engine does not depend on nn

    args = _as_inputs(inputs)
    checked = [(f"input {i}", x) for i, x in enumerate(args)
               if isinstance(x, Tensor) and x.requires_grad]
    saved = []  # (tensor, data, grad) to restore
    buffers = []  # (buffer, its value at the start): running statistics must not drift
    if isinstance(fn, Module):
        for name, p in fn.named_parameters():
            saved.append((p, p.array, p.grad))
            p.array, p.grad = p.array.astype(np.float64), None
            if p.requires_grad:
                checked.append((f"parameter {name!r}", p))
        for _, b in fn.named_buffers():
            saved.append((b, b.array, b.grad))
            b.array = b.array.astype(np.float64) if b.dtype.kind == "f" else b.array.copy()
            buffers.append((b, b.array.copy()))
    rng_state = dn_random.get_state()
    weights: list = []

    def evaluate() -> Tensor:
        dn_random.set_state(rng_state)  # the same dropout masks every time
        for buffer, start in buffers:
            buffer.array[...] = start
        return _scalar(fn(*args), weights)

    try:
        with enable_grad():
            out = evaluate()
            if not out.requires_grad:
                raise GradcheckError("gradcheck: the output does not depend on any checked input")
            out.backward()
        analytic = [np.zeros_like(t.array) if t.grad is None else t.grad.array.copy()
                    for _, t in checked]
        worst = None
        with no_grad():
            for (name, t), grad in zip(checked, analytic):
                flat = t.array.reshape(-1)  # a view: perturbing it perturbs t
                for i in range(flat.size):
                    original = flat[i]
                    flat[i] = original + eps
                    plus = float(evaluate().array)
                    flat[i] = original - eps
                    minus = float(evaluate().array)
                    flat[i] = original
                    numeric = (plus - minus) / (2 * eps)
                    a = float(grad.reshape(-1)[i])
                    excess = abs(a - numeric) - (atol + rtol * abs(numeric))
                    if excess > 0 and (worst is None or excess > worst[0]):
                        index = np.unravel_index(i, t.shape) if t.ndim else ()
                        worst = (excess, name, tuple(int(j) for j in index), a, numeric)
        if worst is not None:
            _, name, index, a, numeric = worst
            raise GradcheckError(
                f"gradcheck: gradient of {name} at index {index} is {a!r} (analytic) but "
                f"{numeric!r} (numeric, eps={eps}); tolerance atol={atol}, rtol={rtol}")
        return True
    finally:
        dn_random.set_state(rng_state)
        for tensor, data, grad in saved:
            tensor.array, tensor.grad = data, grad
