"""Function: a differentiable operation, the node of the graph that backward walks.

deepnum's primitives (:mod:`deepnum.ops`) subclass it with a ``forward`` on ndarrays and, right
under it, a ``backward`` that maps the output's gradient to one gradient per input (``None``
where an input needs none), plus ``vjp``, the same rule written with tensor operations so that
``create_graph=True`` can differentiate it again. ``apply`` runs the forward and, when gradients
are being recorded, keeps what backward needs: the inputs (``parents``), the keyword arguments
the op was called with (``attributes``: stride, padding, axis... for anything that walks the
graph, such as an exporter), and the version of every tensor whose values backward will read,
so that an in-place change in between is an error instead of a wrong gradient.

Users write their own the way PyTorch users do, with static methods and a context object::

    class Exp(dn.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)
            return y

        @staticmethod
        def backward(ctx, grad):
            (y,) = ctx.saved_tensors
            return grad * y

    y = Exp.apply(x)
"""

from __future__ import annotations

import weakref

import numpy as np

from deepnum.autograd import views
from deepnum.autograd.grad_mode import _grad_mode, enable_grad, no_grad
from deepnum.tensor import Tensor


def version(t: Tensor) -> int:
    """The in-place version of ``t``'s memory (shared by all views of it)."""
    base = t._base
    return t._version if base is None else base._version


def modified_error(fn, t_shape, saved: int, now: int) -> RuntimeError:
    return RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [tensor of shape {list(t_shape)}], which is output 0 of "
        f"{type(fn).__name__}, is at version {now}; expected version {saved} instead")


class Function:
    """A differentiable primitive: ``forward`` on ndarrays, ``backward`` right below it.

    Subclasses keep what backward needs as attributes of ``self``. ``self.needs_input_grad``
    tells backward which inputs want a gradient, so it can skip work (e.g. the input image's
    gradient). Class attributes say what the op keeps: ``saves`` (the positions of the inputs
    whose values backward reads; ``None``: all of them), ``needed_by`` (which inputs' gradients
    read each saved one, so that changing it is an error only when one of them is asked for, as
    in PyTorch), ``saves_output`` (backward reads the output), ``view`` (the output shares the
    first input's memory).
    """

    __slots__ = ("parents", "needs_input_grad", "__dict__", "__weakref__")
    saves: tuple | None = None
    needed_by: dict | None = None  # saved input -> the inputs whose gradients read it
    saves_output = False
    view = False
    _user_style = False  # set for subclasses written PyTorch's way (static forward(ctx, ...))
    # per-node state, set on the instance only when it differs from these defaults
    versions: tuple = ()  # in-place versions of the saved inputs, at the time of the forward
    hooks = None  # output index -> tensor hooks (Tensor.register_hook, retain_grad)
    freed = False  # backward ran without retain_graph: the saved values are gone
    num_outputs = 1
    output_version = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._user_style = isinstance(cls.__dict__.get("forward"), staticmethod) or (
            cls._user_style and "forward" not in cls.__dict__)

    def forward(self, *arrays, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError

    def vjp(self, *grads):
        """backward's rule on tensors (for create_graph=True); ops that lack it raise this."""
        raise RuntimeError(f"{type(self).__name__} does not support create_graph=True (a "
                           f"gradient of its gradient) yet")

    @classmethod
    def apply(cls, *inputs, **kwargs):
        if cls._user_style:
            return _apply_user_function(cls, inputs, kwargs)
        fn = cls()
        # the hot path of every op: plain loops and tuples, no generators
        needs = tuple([t.requires_grad for t in inputs]) if _grad_mode.enabled else ()
        record = True in needs
        fn.needs_input_grad = needs if record else ()
        result = fn.forward(*[t.array for t in inputs], **kwargs)
        if type(result) is tuple:
            return _multiple_outputs(fn, cls, inputs, kwargs, result, record)
        out = Tensor._wrap(result)
        if cls.view:
            _share_version(out, inputs[0])
        if record:
            fn.parents = inputs
            # edges(inputs), written out for the hot path
            fn.edges = tuple([(t._ctx, t._index) if t.requires_grad else None for t in inputs])
            fn.attributes = kwargs
            saves = cls.saves
            if saves is None:
                fn.versions = tuple([version(t) for t in inputs])
            elif saves:
                fn.versions = tuple([version(inputs[i]) for i in saves])
            if cls.saves_output:
                fn.output_version = (weakref.ref(out), version(out))
            out.requires_grad = True
            out._ctx = fn
        return out

    def check_versions(self) -> None:
        """Raise if a tensor whose values backward reads was changed in place since."""
        cls = type(self)
        saves, needed_by = cls.saves, cls.needed_by
        positions = range(len(self.parents)) if saves is None else saves
        for position, saved in zip(positions, self.versions):
            t = self.parents[position]
            now = version(t)
            if now != saved:
                users = None if needed_by is None else needed_by.get(position)
                if users is not None and not any(self.needs_input_grad[u] for u in users):
                    continue  # only gradients nobody asked for read it (x * 2: x is not)
                raise modified_error(self, t.shape, saved, now)
        output = self.output_version
        if output is not None:
            out = output[0]()
            if out is not None and version(out) != output[1]:
                raise modified_error(self, out.shape, output[1], version(out))


def edges(inputs) -> tuple:
    """Where each input's gradient goes, fixed now: (its Function, output index), or None for
    an input that needs none. An in-place op later gives the input tensor a new history (and a
    fill_ may end it); the ops recorded before must still send their gradients to the old one,
    as PyTorch's edges do. A leaf's edge is (None, 0): the gradient goes to the tensor itself."""
    return tuple([(t._ctx, t._index) if t.requires_grad else None for t in inputs])


def _share_version(out: Tensor, source: Tensor) -> None:
    """A view's in-place version is its base's: a change through one is seen by the other."""
    a, b = out.array, source.array
    if (a.base if a.base is not None else a) is (b.base if b.base is not None else b):
        root = source if source._base is None else source._base
        out._base = root
        # a later in-place op on the root or one of its views changes what the others hold:
        # their histories are rebuilt then (autograd.views). A leaf that requires grad is never
        # changed in place with grad mode on, so its views (W.t() every step) are not kept.
        if _grad_mode.enabled and (root._ctx is not None or not root.requires_grad):
            try:  # views.register written out: this runs for every view in training
                kept = root._views
            except AttributeError:  # the slot is unset on most tensors
                kept = root._views = views.Views()
            kept.append(weakref.ref(out))
            if len(kept) >= kept.limit:
                kept.prune()


def _multiple_outputs(fn, cls, inputs, kwargs, results, record):
    outs = tuple(Tensor._wrap(r) for r in results)
    if cls.view:
        for out, source in zip(outs, inputs):
            _share_version(out, source)
    if record:
        fn.parents, fn.attributes = inputs, kwargs
        fn.edges = edges(inputs)
        fn.versions = tuple(version(t) for t in inputs) if cls.saves is None else tuple(
            version(inputs[i]) for i in cls.saves)
        for index, out in enumerate(outs):
            # a view op's outputs need a gradient where their own input does (an identity on
            # (image, weight) must not make the image's gradient wanted)
            wanted = inputs[index].requires_grad if cls.view else out.array.dtype.kind in "fc"
            if wanted:
                out.requires_grad, out._ctx, out._index = True, fn, index
    fn.num_outputs = len(outs)
    return outs


# ---------------------------------------------------------------------------- user functions
class FunctionCtx:
    """What a PyTorch-style Function's forward and backward share (``ctx``): the graph node."""

    __slots__ = ()

    def save_for_backward(self, *tensors) -> None:
        self.to_save = tensors

    @property
    def saved_tensors(self) -> tuple:
        saved = getattr(self, "to_save", ())
        for t, v in zip(saved, getattr(self, "saved_versions", ())):
            if t is not None and version(t) != v:
                raise modified_error(self, t.shape, v, version(t))
        return saved

    def mark_dirty(self, *tensors) -> None:
        self.dirty = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self.non_differentiable = {id(t) for t in tensors}

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)


class _UserFunction(Function, FunctionCtx):
    """The node (and ``ctx``) of a PyTorch-style Function: it calls the user's backward."""

    saves = ()  # ctx.saved_tensors checks the versions of what the user saved

    def backward(self, *grads):
        with no_grad():
            out = self.user_backward(*(None if g is None else Tensor._wrap(g) for g in grads))
        return tuple(None if g is None else _array(g) for g in out)

    def vjp(self, *grads):
        with enable_grad():
            return self.user_backward(*grads)

    def user_backward(self, *grads) -> tuple:
        if getattr(self, "materialize_grads", True):
            grads = tuple(Tensor._wrap(np.zeros(shape, dtype)) if g is None else g
                          for g, (shape, dtype) in zip(grads, self.output_meta))
        result = _as_tuple(self.cls.backward(self, *grads))
        if len(result) < len(self.parents):  # trailing Nones may be left out, as in PyTorch
            result = result + (None,) * (len(self.parents) - len(result))
        if len(result) != len(self.parents):
            raise RuntimeError(f"function {self.cls.__name__}.backward returned {len(result)} "
                               f"gradients, but forward took {len(self.parents)} arguments")
        return result


def once_differentiable(backward):
    """Mark a custom Function's backward as not differentiable again: it runs without
    recording, so create_graph=True through it gives gradients without a graph."""
    import functools

    @functools.wraps(backward)
    def wrapper(ctx, *grads):
        with no_grad():
            return backward(ctx, *grads)

    return wrapper


def _as_tuple(value) -> tuple:
    return value if isinstance(value, tuple) else (value,)


def _array(g):
    return g.array if isinstance(g, Tensor) else np.asarray(g)


def _apply_user_function(cls, args, kwargs):
    ctx = _UserFunction()
    ctx.cls = cls
    ctx.needs_input_grad = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
    with no_grad():
        result = cls.forward(ctx, *args, **kwargs)
    outputs = _as_tuple(result)
    record = _grad_mode.enabled and True in ctx.needs_input_grad
    if record:
        # the node's parents are the arguments in order; non-tensors get no gradient. Their
        # edges are taken before a dirty (in-place) output takes this node as its history.
        ctx.parents = tuple(a if isinstance(a, Tensor) else _NOT_A_TENSOR for a in args)
        ctx.edges = edges(ctx.parents)
        ctx.attributes = kwargs
        ctx.output_meta = [(o.shape, o.array.dtype) if isinstance(o, Tensor) else ((), None)
                           for o in outputs]
        ctx.num_outputs = len(outputs)
    skip = getattr(ctx, "non_differentiable", set())
    dirty = {id(t) for t in getattr(ctx, "dirty", ())}
    wrapped, mine = [], {}
    for index, out in enumerate(outputs):
        if not isinstance(out, Tensor):
            wrapped.append(out)
            continue
        t = out if id(out) in dirty else Tensor._wrap(out.array)  # a new node, same memory
        if id(out) in dirty:  # torch counts the rebase as one more version
            (t if t._base is None else t._base)._version += 1
        if record and id(out) not in skip and out.array.dtype.kind in "fc":
            t.requires_grad, t._ctx, t._index = True, ctx, index
        mine[id(out)] = t
        wrapped.append(t)
    saved = getattr(ctx, "to_save", ())
    if saved:
        # a saved output is the one the caller gets, in the graph: its backward is then
        # differentiable again (double backward), and changing it in place is caught
        ctx.to_save = tuple(None if t is None else mine.get(id(t), t) for t in saved)
    ctx.saved_versions = tuple(None if t is None else version(t) for t in ctx.to_save) \
        if saved else ()
    return tuple(wrapped) if isinstance(result, tuple) else wrapped[0]


_NOT_A_TENSOR = Tensor._wrap(np.zeros(()))  # stands for a non-tensor argument in parents
