"""The backward engine: reverse-mode differentiation over the graph of Functions.

A node's backward runs once every op that consumed its outputs has handed it their gradients
(Kahn's topological order, counted first), so the gradients arriving at a tensor are summed
before they are passed on and each op's backward runs exactly once. Leaves (tensors made by the
user, parameters) sum what reaches them and add it to ``.grad``. Everything is a loop: no
recursion, whatever the depth of the network.

``create_graph=True`` runs each op's ``vjp`` (its backward written with tensor operations) with
recording on, so the gradients are themselves differentiable: a gradient penalty, a
Hessian-vector product. Tensor hooks (``Tensor.register_hook``) see, and may replace, the
gradient of their tensor before it moves on; ``retain_grad()`` keeps a non-leaf's gradient.

>>> x = dn.tensor([1.0, 2.0], requires_grad=True)
>>> (x * x).sum().backward(); x.grad          # tensor([2., 4.])
>>> dn.autograd.grad((x ** 3).sum(), x, create_graph=True)   # (tensor([ 3., 12.]),)
"""

from __future__ import annotations

import numpy as np

from deepnum.autograd.grad_mode import enable_grad, no_grad
from deepnum.tensor import Tensor


def _leaf_key(t: Tensor):
    return ("leaf", id(t))


def _graph(roots: list[Tensor]) -> tuple[dict, dict]:
    """For every node that leads to a root and needs a gradient: how many uses by ops in the
    graph (``pending``), and the leaves by key. A node is a Function, or a leaf's key."""
    pending, leaves, stack = {}, {}, []
    for root in roots:
        fn = root._ctx
        if fn is None:
            leaves[_leaf_key(root)] = root
            pending.setdefault(_leaf_key(root), 0)
        elif fn not in pending:
            pending[fn] = 0
            stack.append(fn)
    while stack:  # each Function is pushed once: a sweep over the graph
        fn = stack.pop()
        for parent, edge in zip(fn.parents, fn.edges):
            if edge is None:
                continue
            node = edge[0]
            if node is None:
                node = _leaf_key(parent)
                leaves[node] = parent
            if node in pending:
                pending[node] += 1
            else:
                pending[node] = 1
                if type(node) is not tuple:
                    stack.append(node)
    return pending, leaves


def _runs(pending: dict, targets: set) -> set:
    """The Functions whose backward leads to a target (grad(inputs=...) prunes the others): a
    target, or a node with a parent that reaches one, is reached."""
    parents_of = {node: [e[0] if e[0] is not None else _leaf_key(p)
                         for p, e in zip(node.parents, node.edges) if e is not None]
                  for node in pending if type(node) is not tuple}
    reached, runs = set(targets), set()
    changed = True
    while changed:  # a fixed point over the (acyclic) graph; small next to the backward itself
        changed = False
        for node, parents in parents_of.items():
            if node not in runs and any(p in reached for p in parents):
                runs.add(node)
                reached.add(node)
                changed = True
    return runs


def run_backward(roots, root_grads, keep_graph: bool, create_graph: bool, targets=None,
                 accumulate: bool = True):
    """Backpropagate ``root_grads`` from ``roots``. With ``targets`` (tensors), only those get a
    gradient; ``accumulate`` adds it to their ``.grad``, else the gradients are returned."""
    pending, leaves = _graph(roots)
    target_keys = None
    captured = {}
    if targets is not None:
        target_keys = {}
        for t in targets:
            key = _leaf_key(t) if t._ctx is None else (t._ctx, t._index)
            target_keys[key] = t
        runs = _runs(pending, {k if type(k[0]) is str else k[0] for k in target_keys})
    grads: dict = {}
    for root, g in zip(roots, root_grads):
        key = _leaf_key(root) if root._ctx is None else root._ctx
        slots = grads.setdefault(key, [None] if root._ctx is None else
                                 [None] * _num_outputs(root._ctx))
        index = 0 if root._ctx is None else root._index
        slots[index] = g if slots[index] is None else slots[index] + g
    ready = [node for node, count in pending.items() if count == 0]
    stored: set = set()  # ids of the arrays given to a .grad in this run (see _accumulate)
    context = enable_grad() if create_graph else no_grad()
    with context:
        while ready:
            node = ready.pop()
            slots = grads.pop(node, None)
            if type(node) is tuple:  # a leaf: every contribution is in
                if slots is not None and slots[0] is not None:
                    _finish_leaf(leaves[node], slots[0], create_graph, target_keys, captured,
                                 accumulate, stored)
                continue
            fn = node
            if fn.freed:
                raise RuntimeError(
                    "Trying to backward through the graph a second time (or directly access "
                    "saved tensors after they have already been freed). Saved intermediate "
                    "values of the graph are freed when you call .backward() or "
                    "autograd.grad(). Specify retain_graph=True if you need to backward through "
                    "the graph a second time")
            if target_keys is not None and slots is not None and not accumulate:
                _deliver_targets(fn, slots, target_keys, create_graph, captured, False, stored)
            if slots is not None and fn.hooks:
                _run_tensor_hooks(fn, slots, create_graph)
            if target_keys is not None and slots is not None and accumulate:
                _deliver_targets(fn, slots, target_keys, create_graph, captured, True, stored)
            skip = slots is None or all(g is None for g in slots) or (
                target_keys is not None and fn not in runs)
            input_grads = () if skip else _call_backward(fn, slots, create_graph)
            for i, edge in enumerate(fn.edges):
                if edge is None:
                    continue
                pnode, index = edge
                parent = fn.parents[i]
                if pnode is None:
                    pnode, index = _leaf_key(parent), 0
                pg = input_grads[i] if i < len(input_grads) else None
                if pg is not None:
                    pslots = grads.get(pnode)
                    if pslots is None:
                        pslots = grads[pnode] = [None] * (1 if type(pnode) is tuple
                                                          else _num_outputs(pnode))
                    previous = pslots[index]
                    if not create_graph and pg.dtype != parent.array.dtype:
                        pg = pg.astype(parent.array.dtype)
                    # out of place: pg may alias a gradient that another branch also holds
                    pslots[index] = pg if previous is None else previous + pg
                left = pending[pnode] - 1
                pending[pnode] = left
                if not left:
                    ready.append(pnode)
            if not keep_graph:
                _free(fn)
    return captured


def _num_outputs(fn) -> int:
    return getattr(fn, "num_outputs", 1)


def _call_backward(fn, slots, create_graph):
    fn.check_versions()
    if create_graph:
        grads = [g if g is None or isinstance(g, Tensor) else Tensor._wrap(g) for g in slots]
        out = fn.vjp(*grads)
    else:
        out = fn.backward(*slots)
    return out if type(out) is tuple else (out,)


def _run_tensor_hooks(fn, slots, create_graph):
    """Hooks registered on this node's outputs (Tensor.register_hook, retain_grad) in order."""
    for index, hooks in fn.hooks.items():
        g = slots[index]
        if g is None:
            continue
        for hook in list(hooks.values()):
            g = _call_hook(hook, g, create_graph)
        slots[index] = g


def _call_hook(hook, g, create_graph):
    """A tensor hook sees a Tensor; what it returns (if anything) replaces the gradient."""
    result = hook(g if isinstance(g, Tensor) else Tensor._wrap(g))
    if result is None:
        return g
    if create_graph:
        return result if isinstance(result, Tensor) else Tensor._wrap(np.asarray(result))
    return result.array if isinstance(result, Tensor) else np.asarray(result)


class PostAccumulate:
    """A hook run after a leaf's ``.grad`` was updated (register_post_accumulate_grad_hook)."""

    __slots__ = ("hook",)

    def __init__(self, hook):
        self.hook = hook


def _deliver_targets(fn, slots, target_keys, create_graph, captured, accumulate, stored):
    """The gradients of fn's outputs that are targets (inputs= / grad's inputs): grad() takes
    them before the tensors' hooks, backward(inputs=) after, as torch."""
    for index, g in enumerate(slots):
        t = target_keys.get((fn, index))
        # a target that retains its grad already got it from its retain_grad hook
        if t is not None and g is not None and not (accumulate and t._retains):
            _deliver(t, g, create_graph, captured, accumulate, stored)


def _finish_leaf(leaf, g, create_graph, target_keys, captured, accumulate, stored):
    hooks = leaf._hooks
    if hooks:
        for hook in list(hooks.values()):
            if type(hook) is not PostAccumulate:
                g = _call_hook(hook, g, create_graph)
    if target_keys is not None:
        if _leaf_key(leaf) in target_keys:
            _deliver(leaf, g, create_graph, captured, accumulate, stored)
    elif accumulate:
        _accumulate(leaf, g, create_graph, stored)
        if hooks:
            for hook in list(hooks.values()):
                if type(hook) is PostAccumulate:
                    hook.hook(leaf)


def _deliver(t, g, create_graph, captured, accumulate, stored):
    if accumulate:
        _accumulate(t, g, create_graph, stored)
    else:
        captured[id(t)] = g if create_graph or isinstance(g, Tensor) else Tensor._wrap(
            np.array(g, dtype=t.array.dtype, copy=True))


def _accumulate(t: Tensor, g, create_graph: bool, stored: set) -> None:
    if create_graph:
        g = g if isinstance(g, Tensor) else Tensor._wrap(g)
        t.grad = g if t.grad is None else t.grad + g
        return
    if g.dtype != t.array.dtype:
        g = g.astype(t.array.dtype)
    grad = t.grad
    if grad is None:
        # a gradient may be a view, or the very array another leaf got (a + b hands the same
        # g to both): each .grad owns its memory, so an in-place change of one (clipping,
        # zero_) cannot change another
        if g.base is not None or not g.flags.writeable or id(g) in stored:
            g = g.copy()
        stored.add(id(g))
        t.grad = Tensor._wrap(g)
    elif grad.requires_grad:  # a .grad made with create_graph=True keeps its graph (torch)
        with enable_grad():
            t.grad = grad + Tensor._wrap(g)
    elif grad.array.shape == g.shape and grad.array.flags.writeable:
        np.add(grad.array, g, out=grad.array)  # in place, as torch: p.grad stays the same tensor
    else:
        t.grad = Tensor._wrap(grad.array + g)


def _free(fn) -> None:
    """Drop what backward needed, as PyTorch frees saved tensors (retain_graph=False)."""
    hooks = fn.hooks
    fn.__dict__.clear()
    fn.parents, fn.edges, fn.hooks, fn.freed = (), (), hooks, True


def prepare_root_grads(roots, grad_tensors, create_graph: bool, what: str):
    grads = []
    for root, g in zip(roots, grad_tensors):
        if not isinstance(root, Tensor):
            raise TypeError(f"{what}: expected tensors, got {type(root).__name__}")
        if not root.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a "
                               "grad_fn (create inputs with requires_grad=True, and do not call "
                               "backward inside no_grad())")
        if g is None:
            if root.array.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; "
                                   f"this output has shape {tuple(root.shape)}: pass a gradient "
                                   f"of that shape or reduce it first (e.g. loss.sum())")
            g = np.ones_like(root.array)
        else:
            array = g.array if isinstance(g, Tensor) else np.asarray(g)
            if array.shape != root.array.shape:
                raise RuntimeError(f"Mismatch in shape: grad_output has a shape of "
                                   f"{tuple(array.shape)} and output has a shape of "
                                   f"{tuple(root.shape)}")
            if create_graph and isinstance(g, Tensor):
                grads.append(g)
                continue
            g = np.array(array, dtype=root.array.dtype)
        grads.append(Tensor._wrap(g) if create_graph else g)
    return grads


def _as_list(value) -> list:
    if isinstance(value, Tensor):
        return [value]
    return list(value)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False,
             inputs=None) -> None:
    """Add d(sum of tensors * grad_tensors)/d(leaf) to each leaf's ``.grad`` (``inputs``: only
    those tensors' ``.grad``, leaves or not)."""
    roots = _as_list(tensors)
    grad_tensors = [None] * len(roots) if grad_tensors is None else _as_list(grad_tensors)
    if len(grad_tensors) != len(roots):
        raise RuntimeError(f"backward: got {len(grad_tensors)} gradients for {len(roots)} "
                           f"tensors")
    keep = create_graph if retain_graph is None else retain_graph
    grads = prepare_root_grads(roots, grad_tensors, create_graph, "backward")
    targets = None if inputs is None else _as_list(inputs)
    if targets is not None and not targets:
        raise RuntimeError("backward: inputs= was given but is empty")
    run_backward(roots, grads, keep, create_graph, targets, accumulate=True)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         allow_unused=None, materialize_grads: bool = False):
    """The gradients of ``outputs`` with respect to each of ``inputs``, returned (not added to
    ``.grad``), as ``torch.autograd.grad``.

    >>> (g,) = dn.autograd.grad(loss, x, create_graph=True)     # g can be differentiated again
    """
    roots = _as_list(outputs)
    targets = _as_list(inputs)
    grad_outputs = [None] * len(roots) if grad_outputs is None else _as_list(grad_outputs)
    if len(grad_outputs) != len(roots):
        raise RuntimeError(f"grad: got {len(grad_outputs)} grad_outputs for {len(roots)} "
                           f"outputs")
    for t in targets:
        if not isinstance(t, Tensor) or not t.requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    keep = create_graph if retain_graph is None else retain_graph
    grads = prepare_root_grads(roots, grad_outputs, create_graph, "grad")
    captured = run_backward(roots, grads, keep, create_graph, targets, accumulate=False)
    allow_unused = materialize_grads if allow_unused is None else allow_unused
    result = []
    for t in targets:
        g = captured.get(id(t))
        if g is None:
            if not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been "
                                   "used in the graph. Set allow_unused=True if this is the "
                                   "desired behavior.")
            if materialize_grads:
                g = Tensor._wrap(np.zeros_like(t.array))
        result.append(g)
    return tuple(result)
