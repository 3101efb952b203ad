"""The layers a model's forward runs, in order, found by running it once with hooks: what the
captured step and ``dn.compile`` replay for a model that is not a plain Sequential (LeNet5's
``classifier(features(x))``, a Sequential of Sequentials, a user's module that calls its
layers one after another).

A forward is captured only when it is exactly a chain of its leaf modules (those without
children): the input goes into the first, each output into the next as it is (the same tensor,
not changed in place since), and the last output is what the forward returns. Anything the
forward computes itself (a reshape between two layers, a skip connection, arithmetic, a branch
on the data) breaks the chain, and the model runs eagerly, with the reason.

>>> with Trace(model, x) as trace:
...     out = model(x)                # the real call: its result is used
>>> layers = trace.chain(out)         # [Conv2d, ReLU, MaxPool2d, ..., Linear], or NotCapturable
"""

from __future__ import annotations

from deepnum.autograd.function import version
from deepnum.fast.capture import NotCapturable
from deepnum.tensor import Tensor


def sequential_layers(model):
    """The layers of a Sequential that is only its children (its own forward, no hooks, every
    child a leaf): no trace is needed. None for any other model."""
    from deepnum.nn.container import Sequential

    if type(model).forward is not Sequential.forward or "forward" in model.__dict__ or \
            model._has_hooks:
        return None
    layers = list(model._modules.values())
    return layers if all(not m._modules for m in layers) else None


def leaves(model) -> list:
    """The modules of ``model``'s tree without children (each once)."""
    return [m for m in model.modules() if not m._modules]


class Trace:
    """Records the calls of ``model``'s leaves while the block runs; :meth:`chain` reads them."""

    def __init__(self, model, x):
        for name, module in model.named_modules():
            if module._has_hooks:
                raise NotCapturable(f"{name or type(model).__name__} has hooks")
            if "forward" in module.__dict__:
                raise NotCapturable(f"{name or type(model).__name__} has a replaced forward")
        self.model, self.x, self.x_version = model, x, version(x)
        self.calls = []  # (module, input, its version, output, its version), in call order
        self.handles = []

    def __enter__(self) -> Trace:
        def before(module, args, kwargs):
            first = args[0] if len(args) == 1 and not kwargs else None
            known = isinstance(first, Tensor)
            self.calls.append([module, first, version(first) if known else None])

        def after(module, args, output):
            known = isinstance(output, Tensor)
            self.calls[-1] += [output, version(output) if known else None]

        for leaf in leaves(self.model):
            self.handles += [leaf.register_forward_pre_hook(before, with_kwargs=True),
                             leaf.register_forward_hook(after)]
        return self

    def __exit__(self, *exc) -> bool:
        for handle in self.handles:
            handle.remove()
        return False

    def chain(self, out) -> list:
        """The leaves in call order, if the forward was exactly their chain and returned
        ``out``; else NotCapturable saying where the chain broke."""
        name = type(self.model).__name__
        current, current_version = self.x, self.x_version
        for module, given, given_version, output, output_version in self.calls:
            if given is not current or given_version != current_version:
                what = "the forward's input" if current is self.x else "the previous layer's output"
                raise NotCapturable(f"{name}'s forward is not a chain of its layers: "
                                    f"{type(module).__name__} is not given {what} as it was")
            if output_version is None:
                raise NotCapturable(f"{type(module).__name__} does not return one tensor")
            current, current_version = output, output_version
        if not self.calls or out is not current or version(out) != current_version:
            raise NotCapturable(f"{name}'s forward is not a chain of its layers: it does not "
                                f"return the last layer's output as it was")
        return [call[0] for call in self.calls]
