"""Containers: Sequential (layers applied in order) and ModuleList (a registered list)."""

from __future__ import annotations

from collections import OrderedDict

from deepnum import fast
from deepnum.nn import module as module_tree
from deepnum.nn.module import Module


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
        # Runs of layers the speed wing computes as one op (Linear, ReLU -> one fused op...)
        # come from nn.fusion's plan, made once and re-made when modules, hooks or the wing
        # change; the result is the same as calling each module in turn.
        key = (module_tree.generation(), fast.generation())
        cached = self.__dict__.get("_plan")
        if cached is None or cached[0] != key:
            from deepnum.nn.fusion import plan

            cached = (key, plan(self._modules.values()))
            object.__setattr__(self, "_plan", cached)
        for step in cached[1]:
            x = step(x)
        return x

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
