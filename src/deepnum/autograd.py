"""Reverse-mode automatic differentiation: the op base class and the backward engine.

Every differentiable primitive is a :class:`Function` subclass whose ``forward`` works on plain
ndarrays and whose ``backward``, written right under it, maps the gradient of the output to one
gradient per input (``None`` where an input needs none). ``apply`` runs the forward and, when
gradients are being recorded, remembers the inputs so :func:`backward` can walk the graph later.

>>> x = dn.tensor([1.0, 2.0], requires_grad=True)
>>> (x * x).sum().backward(); x.grad          # tensor([2., 4.])
"""

from __future__ import annotations

import functools
import threading

import numpy as np

from deepnum.tensor import Tensor


class _GradMode(threading.local):
    enabled = True  # a class default: each thread starts recording, read without getattr()


_grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    return _grad_mode.enabled


def set_grad_enabled(mode: bool) -> None:
    _grad_mode.enabled = bool(mode)


class _GradModeContext:
    """Set the grad mode for a block (``with``) or a function (decorator), then restore it.

    A plain class rather than @contextlib.contextmanager: entering it costs a third as much,
    which shows in one-sample inference."""

    mode = True

    def __enter__(self):
        self.previous = _grad_mode.enabled
        _grad_mode.enabled = self.mode

    def __exit__(self, *exc):
        _grad_mode.enabled = self.previous
        return False

    def __call__(self, func):
        """As a decorator: a fresh context per call, so recursion and threads restore correctly."""

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with type(self)():
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradModeContext):  # noqa: N801 - named like torch.no_grad
    """Run the block without recording the graph (evaluation, weight updates)."""

    mode = False


class enable_grad(_GradModeContext):  # noqa: N801
    """Record the graph inside the block, even within no_grad()."""

    mode = True


class Function:
    """A differentiable primitive: ``forward`` on ndarrays, ``backward`` right below it.

    Subclasses keep what backward needs as attributes of ``self``. ``self.needs_input_grad`` tells
    backward which inputs want a gradient, so it can skip work (e.g. the input image's gradient).
    """

    __slots__ = ("parents", "needs_input_grad", "__dict__")

    def forward(self, *arrays, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def apply(cls, *inputs: Tensor, **kwargs) -> Tensor:
        fn = cls()
        # the hot path of every op: plain loops and tuples, no generators
        needs = tuple([t.requires_grad for t in inputs]) if _grad_mode.enabled else ()
        record = True in needs
        fn.needs_input_grad = needs if record else ()
        out = Tensor._wrap(fn.forward(*[t.array for t in inputs], **kwargs))
        if record:
            fn.parents = inputs
            out.requires_grad = True
            out._ctx = fn
        return out


def _count_consumers(root: Tensor) -> dict[int, int]:
    """For every node that leads to ``root`` and needs a gradient: how many ops take it as input
    (no recursion, each node visited once)."""
    consumers, nodes = {id(root): 0}, [root]
    for node in nodes:  # grows while we walk it: a breadth-first sweep
        fn = node._ctx
        if fn is None:
            continue
        for parent in fn.parents:
            if parent.requires_grad:
                key = id(parent)
                if key in consumers:
                    consumers[key] += 1
                else:
                    consumers[key] = 1
                    nodes.append(parent)
    return consumers


def backward(root: Tensor, gradient=None, retain_graph: bool = False) -> None:
    """Accumulate d(root)/d(leaf) into ``leaf.grad`` for every leaf that requires a gradient.

    A node's backward runs once all the ops that consumed it have handed it their gradients
    (Kahn's topological order, counted by _count_consumers), so each node's incoming gradients
    are summed before it passes them on, and each op's backward runs exactly once."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward(): this tensor does not require grad and has no graph "
            "(create inputs with requires_grad=True, and do not call it inside no_grad())"
        )
    if gradient is None:
        if root.array.size != 1:
            raise RuntimeError(
                f"backward(): grad can be implicitly created only for a scalar output, but the "
                f"output has shape {root.shape}; pass gradient= of that shape or reduce it first "
                f"(e.g. loss.sum() or loss.mean())"
            )
        gradient = np.ones_like(root.array)
    else:
        gradient = np.array(gradient.array if isinstance(gradient, Tensor) else gradient,
                            dtype=root.dtype)
        if gradient.shape != root.shape:
            raise ValueError(f"backward(): gradient has shape {gradient.shape}, "
                             f"but the output has shape {root.shape}")

    pending = _count_consumers(root)
    grads = {id(root): gradient}
    handed_out = set()  # arrays already stored in a .grad: never store the same one twice
    ready = [root]
    while ready:
        node = ready.pop()
        g = grads.pop(id(node), None)
        if g is None:  # every path to it carried no gradient
            continue
        fn = node._ctx
        if fn is None and node._graph_freed:
            raise RuntimeError(
                "backward(): trying to backward through the graph a second time; its saved "
                "values were freed after the first backward (use backward(retain_graph=True))"
            )
        if fn is None or node._retain_grad:
            if id(g) in handed_out or g.base is not None:
                g = g.copy()
            handed_out.add(id(g))
            node._accumulate_grad(g)
            if fn is None:
                continue
        input_grads = fn.backward(g)
        if type(input_grads) is not tuple:
            input_grads = (input_grads,)
        for parent, pg in zip(fn.parents, input_grads):
            if not parent.requires_grad:
                continue
            key = id(parent)
            if pg is not None:
                previous = grads.get(key)
                # out of place: pg may alias a gradient that another branch also holds
                grads[key] = pg if previous is None else previous + pg
            left = pending[key] - 1
            pending[key] = left
            if not left:
                ready.append(parent)
        if not retain_graph:
            node._ctx = None
            node._graph_freed = True
