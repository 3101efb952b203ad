"""Containers: Sequential (layers applied in order) and ModuleList (a registered list)."""

from __future__ import annotations

from collections import OrderedDict

from deepnum.nn.activation import ReLU
from deepnum.nn.conv import Conv2d
from deepnum.nn.linear import Linear
from deepnum.nn.module import Module
from deepnum.nn.pooling import MaxPool2d

_FUSES_RELU = (Linear, Conv2d)  # layers with a _forward_relu (their op with ReLU in place)


class Sequential(Module):
    """Apply modules one after another: ``Sequential(Linear(784, 256), ReLU(), Linear(256, 10))``.

    >>> model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    >>> model[0]                          # Linear(in_features=2, out_features=8, bias=True)
    """

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, module in modules[0].items():
                self.add_module(name, module)
        else:
            for i, module in enumerate(modules):
                self.add_module(str(i), module)
        for name, module in self._modules.items():
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: item {name} is a {type(module).__name__}, "
                                f"not a Module")

    def forward(self, x):
        # A Linear or Conv2d followed by a ReLU runs as one op (F.linear_relu, F.conv2d_relu:
        # ReLU in place, no mask array), only for these exact classes and when no one replaced
        # their forward (as train.summary does to record shapes); the result is the same.
        # A Conv2d, ReLU, MaxPool2d runs as one op too (F.conv2d_relu_max_pool2d).
        layer, relu = None, False  # a Linear/Conv2d (and its ReLU) held back: what follows?
        for module in self._modules.values():
            if layer is not None:
                plain = "forward" not in module.__dict__
                if not relu and type(module) is ReLU and plain:
                    relu = True
                    continue
                if (relu and type(module) is MaxPool2d and plain
                        and hasattr(layer, "_forward_relu_pool")):
                    x, layer, relu = layer._forward_relu_pool(x, module), None, False
                    continue
                x = layer._forward_relu(x) if relu else layer(x)
                layer, relu = None, False
            if type(module) in _FUSES_RELU and "forward" not in module.__dict__:
                layer = module
            else:
                x = module(x)
        if layer is None:
            return x
        return layer._forward_relu(x) if relu else layer(x)

    def __getitem__(self, index):
        modules = list(self._modules.values())
        if isinstance(index, slice):
            return Sequential(*modules[index])
        return modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list whose modules are registered, so their parameters are found."""

    def __init__(self, modules=()):
        super().__init__()
        for module in modules:
            self.append(module)

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def __getitem__(self, index):
        modules = list(self._modules.values())
        return ModuleList(modules[index]) if isinstance(index, slice) else modules[index]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def forward(self, *args):  # pragma: no cover - a list is not callable
        raise NotImplementedError("ModuleList is not callable; iterate over it in your forward()")
