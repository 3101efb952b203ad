"""Tracing: the autograd graph of one forward call, as an ordered list of steps for an exporter.

The model runs once with gradients recorded (the example input requires grad, the parameters do
anyway), so every primitive leaves its node (``tensor._ctx``: the op, its ``parents`` and the
keyword ``attributes`` it was called with). Forward hooks on every module name the module each
node came from (for the file's node names and for errors) and let a layer be exported whole
where ONNX has an op for it (an LSTM as ONNX's LSTM, not as its internals): such a module is one
step, its inputs and outputs taken from the hook.

Walking back from the outputs gives the steps in an order where every value is made before it
is used. A leaf is a graph input (the example input itself), a parameter or buffer (named by its
state-dict name), or a constant (anything else: a scalar operand, a mask built in forward).

>>> trace = record(model, (x,), claims_module)     # steps, inputs, outputs, leaves
>>> [step.describe() for step in trace.steps][:2]  # ['Conv2d in features.0', ...]
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deepnum.autograd.grad_mode import enable_grad
from deepnum.tensor import Tensor


@dataclass
class Call:
    """One call of one module: where it sits, what went in and what came out."""

    module: object
    path: str
    args: tuple
    outputs: list = field(default_factory=list)
    whole: bool = False  # exported as one step by a module converter

    def describe(self) -> str:
        return f"module {self.path or '(the model)'} ({type(self.module).__name__})"


@dataclass
class Step:
    """One op node or one whole-module call, with the values it reads and makes."""

    op: object  # the Function node, or a Call when whole
    inputs: list  # Tensors (a whole module's: every tensor in its arguments, in order)
    outputs: list  # value keys, one per output
    call: Call | None  # the innermost module call the step belongs to

    @property
    def whole(self) -> bool:
        return isinstance(self.op, Call)

    @property
    def kind(self):
        return type(self.op.module) if self.whole else type(self.op)

    def describe(self) -> str:
        where = self.call.describe() if self.call is not None else "the model's own forward"
        if self.whole:
            return where
        return f"op {type(self.op).__name__} in {where}"


@dataclass
class Trace:
    steps: list
    inputs: list  # the example input tensors
    outputs: list  # the model's output tensors, flattened
    leaves: dict  # id(tensor) -> tensor, every leaf read by a step
    calls: list


def key_of(t: Tensor):
    """The key of the value held by ``t``: the node that made it (and which output), or the
    tensor itself for a leaf. A tensor changed in place later names its new node, so keys are
    taken from nodes' parents, never from a tensor's current state after the fact."""
    if t._ctx is None:
        return ("leaf", id(t))
    return ("node", id(t._ctx), t._index)


def flatten(value) -> list:
    """The tensors in a (nested) tuple/list/dict output, in order; others are skipped."""
    out, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Tensor):
            out.append(item)
        elif isinstance(item, (tuple, list)):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
    return out


def record(model, inputs: tuple, whole_module) -> Trace:
    """Run ``model(*inputs)`` once, recording; ``whole_module(module)`` says whether a module is
    exported as one step (then its insides are not walked)."""
    names = {id(m): name for name, m in model.named_modules()}
    calls, owners, whole_outputs = [], {}, {}
    stack: list[Call] = []
    handles = []

    def before(module, args):
        whole = whole_module(module) and not any(c.whole for c in stack)
        stack.append(Call(module, names.get(id(module), "?"), args, whole=whole))

    def after(module, args, output):
        call = stack.pop()
        call.outputs = flatten(output)
        calls.append(call)
        _claim(call, owners)
        if call.whole:
            for t in call.outputs:
                if t._ctx is not None:
                    whole_outputs[key_of(t)] = call

    had_hooks = {id(m) for m in model.modules() if m._has_hooks}
    for m in model.modules():
        handles.append(m.register_forward_pre_hook(before))
        handles.append(m.register_forward_hook(after))
    try:
        with enable_grad():
            output = model(*inputs)
    finally:
        for h in handles:
            h.remove()
    for call in calls:  # a user's hook may change what a layer returns: trace its insides
        if call.whole and id(call.module) in had_hooks:
            call.whole = False
    whole_outputs = {k: c for k, c in whole_outputs.items() if c.whole}
    outputs = flatten(output)
    steps, leaves = _walk(outputs, owners, whole_outputs)
    return Trace(steps, list(inputs), outputs, leaves, calls)


def _claim(call: Call, owners: dict) -> None:
    """Mark the nodes between ``call``'s arguments and outputs as its own (nodes already
    claimed by a module it called stay theirs; the walk goes on from that module's arguments)."""
    stop = {id(t) for t in flatten(call.args)}
    seen_calls = set()
    pending = list(call.outputs)
    while pending:
        t = pending.pop()
        if id(t) in stop or t._ctx is None:
            continue
        fn = t._ctx
        inner = owners.get(id(fn))
        if inner is call:
            continue
        if inner is not None:
            if id(inner) not in seen_calls:
                seen_calls.add(id(inner))
                pending.extend(flatten(inner.args))
            continue
        owners[id(fn)] = call
        pending.extend(p for p in getattr(fn, "parents", ()) if isinstance(p, Tensor))


def _walk(outputs: list, owners: dict, whole_outputs: dict):
    """Post-order walk from the outputs: (steps in a valid order, leaves)."""
    steps, leaves, done = [], {}, set()
    pending = [(t, False) for t in reversed(outputs)]
    while pending:
        t, expanded = pending.pop()
        if t is None:
            continue
        if t._ctx is None:
            leaves[id(t)] = t
            continue
        key = key_of(t)
        call = whole_outputs.get(key)
        node_id = id(call) if call is not None else id(t._ctx)
        if node_id in done:
            continue
        if call is not None:
            inputs = flatten(call.args)
            made = [key_of(o) if o._ctx is not None else ("leaf", id(o)) for o in call.outputs]
            op, owner = call, call
        else:
            fn = t._ctx
            if not hasattr(fn, "parents"):
                raise RuntimeError("a node without recorded inputs (backward already freed "
                                   "it?)")
            inputs = list(fn.parents)
            made = [("node", id(fn), i) for i in range(getattr(fn, "num_outputs", 1))]
            op, owner = fn, owners.get(id(fn))
        if not expanded:
            pending.append((t, True))
            pending.extend((p, False) for p in reversed(inputs) if p is not None)
            continue
        done.add(node_id)
        steps.append(Step(op, inputs, made, owner))
    return steps, leaves
