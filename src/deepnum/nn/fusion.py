"""The fusion plan: runs of layers in a container that run as one op of the speed wing.

A ``Linear`` followed by a ``ReLU`` is computed as relu(x W^T + b) with the ReLU applied in place
on the fresh product; ``Conv2d, ReLU`` and ``Conv2d, ReLU, MaxPool2d`` likewise (see
:mod:`deepnum.fast`). The result is the same as running the layers one by one (tested); only
the time and memory differ. :func:`plan` reads :data:`FUSIONS` once per container and returns
the steps to run; a container re-plans when a module, a hook or the speed wing changes.

Only layers of exactly these classes, without hooks and with their own forward, are fused, so a
hook or a replaced forward always sees its module run. A user's own Sequential-like container
can use the plan too::

    steps = nn.fusion.plan(self.layers)
    for step in steps: x = step(x)
"""

from __future__ import annotations

from deepnum import fast
from deepnum.nn.activation import ReLU
from deepnum.nn.conv import Conv2d
from deepnum.nn.functional_conv import batch_of, conv2d_with, pair, pool_args
from deepnum.nn.linear import Linear
from deepnum.nn.module import Module
from deepnum.nn.pooling import MaxPool2d


class Fused:
    """One step of a plan that runs ``modules`` as one op (falling back to running them one by
    one when the speed wing has no op for this input)."""

    def __init__(self, modules, run):
        self.modules, self.run = tuple(modules), run

    def __call__(self, x):
        out = self.run(x, *self.modules)
        if out is NotImplemented:
            for module in self.modules:
                x = module(x)
            return x
        return out

    def __repr__(self) -> str:
        return f"Fused({', '.join(type(m).__name__ for m in self.modules)})"


class FusedLinearReLU(Fused):
    """Linear, ReLU as the wing's one op. Which op runs does not depend on the batch size, so it
    is chosen when the plan is made, not per call (at one sample the choosing showed)."""

    def __init__(self, modules, op):
        super().__init__(modules, None)
        self.op = op

    def __call__(self, x):
        linear = self.modules[0]
        linear.check_input(x)
        if linear.bias is None:
            return self.op.apply(x, linear.weight)
        return self.op.apply(x, linear.weight, linear.bias)


def _linear_relu(modules):
    op = fast.choose(("linear", "relu"))
    return None if op == ("linear", "relu") else FusedLinearReLU(modules, op)


def _conv_relu(x, conv, relu):
    op = fast.choose(("conv2d", "relu"), batch=batch_of(x))
    if op == ("conv2d", "relu"):
        return NotImplemented
    conv.check_input(x)
    return conv2d_with(op, x, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation,
                       conv.groups)


def _conv_relu_pool(x, conv, relu, pool):
    op = fast.choose(("conv2d", "relu", "max_pool2d"), batch=batch_of(x))
    if op == ("conv2d", "relu", "max_pool2d"):
        return NotImplemented
    conv.check_input(x)
    kernel, stride, padding = pool_args(pool.kernel_size, pool.stride, pool.padding,
                                        "max_pool2d")
    geometry = (kernel, stride, padding, pair(pool.dilation, "dilation", "max_pool2d"))
    return conv2d_with(op, x, conv.weight, conv.bias, conv.stride, conv.padding, conv.dilation,
                       conv.groups, pool=geometry, pool_ceil_mode=pool.ceil_mode)


# (the layers' classes in order, make(modules) -> the step that runs them as one op, or None
# when the wing has none); the longest match is taken first
FUSIONS = [
    ((Conv2d, ReLU, MaxPool2d), lambda modules: Fused(modules, _conv_relu_pool)),
    ((Conv2d, ReLU), lambda modules: Fused(modules, _conv_relu)),
    ((Linear, ReLU), _linear_relu),
]


def fusable(module: Module, cls: type) -> bool:
    """Exactly this class, no hooks, and its own forward."""
    return type(module) is cls and not module._has_hooks and "forward" not in module.__dict__


def plan(modules) -> list:
    """The steps that compute ``modules`` in order: each a module, or a :class:`Fused` run."""
    modules = list(modules)
    if not fast.enabled():
        return modules
    steps, i = [], 0
    while i < len(modules):
        for classes, make in FUSIONS:
            window = modules[i:i + len(classes)]
            step = None
            if len(window) == len(classes) and all(fusable(m, c) for m, c in zip(window,
                                                                                  classes)):
                step = make(window)
            if step is not None:
                steps.append(step)
                i += len(classes)
                break
        else:
            steps.append(modules[i])
            i += 1
    return steps
