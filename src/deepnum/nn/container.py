"""Containers of modules: Sequential (applied in order), ModuleList and ModuleDict (registered
collections), as PyTorch's. ParameterList and ParameterDict are in parameter_container.py.

A structural change (append, insert, del, setitem) goes through ``add_module`` / ``_set_modules``,
which call ``nn.module.changed()``, so Sequential's fusion plan is re-made. A container's
architecture for model files is written from its current children (``_architecture``), so a
Sequential grown with ``append`` or ``insert`` still saves and loads.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections import abc as container_abcs
from itertools import chain, islice

from deepnum import fast
from deepnum.nn.module import Module, _addindent


def _index(container, idx) -> int:
    """``idx`` as a non-negative position, or PyTorch's IndexError."""
    size = len(container)
    idx = operator.index(idx)
    if not -size <= idx < size:
        raise IndexError(f"index {idx} is out of range")
    return idx % size


class Sequential(Module):
    """Apply modules one after another: ``Sequential(Linear(784, 256), ReLU(), Linear(256, 10))``
    or ``Sequential(OrderedDict(fc=..., act=...))`` for named layers.

    >>> model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1))
    >>> model[0]                          # Linear(in_features=2, out_features=8, bias=True)
    """

    _plan = None  # (fast.generation() it was made at, the steps); set by forward

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
        key = fast.generation()
        cached = self._plan
        if cached is None or cached[0] != key:
            from deepnum.nn.fusion import plan

            cached = (key, plan(self._modules.values()))
            object.__setattr__(self, "_plan", cached)
        for step in cached[1]:
            x = step(x)
        return x

    def _architecture(self):
        if list(self._modules) == [str(i) for i in range(len(self))]:
            return tuple(self._modules.values()), {}
        return (OrderedDict(self._modules),), {}

    def __getitem__(self, idx):
        if isinstance(idx, slice):  # keeps the original names, as PyTorch
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        return next(islice(self._modules.values(), _index(self, idx), None))

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, next(islice(self._modules.keys(), _index(self, idx), None)), module)

    def __delitem__(self, idx) -> None:
        names = list(self._modules)
        doomed = set(names[idx]) if isinstance(idx, slice) else {names[_index(self, idx)]}
        kept = [m for name, m in self._modules.items() if name not in doomed]
        self._set_modules((str(i), m) for i, m in enumerate(kept))  # renumbered, as PyTorch

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        if not isinstance(module, Module):
            raise AssertionError(f"module should be of type: {Module}")
        n = len(self._modules)
        if not -n <= index <= n:
            raise IndexError(f"Index out of range: {index}")
        modules = list(self._modules.values())
        modules.insert(index, module)  # a negative index counts from the end, as PyTorch's
        self._set_modules((str(i), m) for i, m in enumerate(modules))
        return self

    def extend(self, sequential) -> Sequential:
        for layer in sequential:
            self.append(layer)
        return self

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def __add__(self, other) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        return Sequential(*self, *other)

    def __iadd__(self, other) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but "
                             f"{type(other)} is given.")
        offset = len(self)
        for i, module in enumerate(other):
            self.add_module(str(i + offset), module)
        return self

    def __mul__(self, other: int) -> Sequential:
        _check_factor(self, other)
        return Sequential(*(list(self) * other))

    __rmul__ = __mul__

    def __imul__(self, other: int) -> Sequential:
        _check_factor(self, other)
        modules = list(self) * other
        self._set_modules((str(i), m) for i, m in enumerate(modules))
        return self


def _check_factor(container, other) -> None:
    if not isinstance(other, int) or isinstance(other, bool):
        raise TypeError(f"unsupported operand type(s) for *: {type(container)} and {type(other)}")
    if other <= 0:
        raise ValueError(f"Non-positive multiplication factor {other} for {type(container)}")


class ModuleList(Module):
    """A list whose modules are registered, so their parameters are found; indexable, sliceable,
    and editable like a list (``append``, ``insert``, ``extend``, ``+=``, ``del``).

    >>> blocks = nn.ModuleList(nn.Linear(8, 8) for _ in range(3))
    >>> for block in blocks: x = block(x)
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _architecture(self):
        return (list(self._modules.values()),), {}

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_index(self, idx))]

    def __setitem__(self, idx: int, module: Module) -> None:
        setattr(self, str(_index(self, idx)), module)

    def __delitem__(self, idx) -> None:
        modules = list(self._modules.values())
        del modules[idx if isinstance(idx, slice) else _index(self, idx)]
        self._set_modules((str(i), m) for i, m in enumerate(modules))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __dir__(self):
        return [key for key in super().__dir__() if not key.isdigit()]

    def __iadd__(self, modules) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other) -> ModuleList:
        return ModuleList(chain(self, other))

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> ModuleList:
        if not isinstance(modules, container_abcs.Iterable):
            raise TypeError(f"ModuleList.extend should be called with an iterable, but got "
                            f"{type(modules).__name__}")
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._set_modules((str(i), m) for i, m in enumerate(modules))

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def __repr__(self) -> str:
        """PyTorch's compact form: a run of identical modules is one line, ``(0-2): 3 x ...``."""
        reprs = [repr(module) for module in self]
        if not reprs:
            return self._get_name() + "()"
        runs = []  # [first index, last index, repr]
        for i, text in enumerate(reprs):
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = [_addindent(f"({a}): {text}" if a == b else f"({a}-{b}): {b - a + 1} x {text}", 2)
                 for a, b, text in runs]
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"

    def forward(self, *args):  # pragma: no cover - a list is not callable
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required "
                                  f"\"forward\" function")


class ModuleDict(Module):
    """A dict whose modules are registered, in insertion order.

    >>> heads = nn.ModuleDict({"digit": nn.Linear(64, 10), "parity": nn.Linear(64, 2)})
    >>> heads["digit"](features)
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def _architecture(self):
        return (OrderedDict(self._modules),), {}

    def __getitem__(self, key: str) -> Module:
        return self._modules[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key: str) -> None:
        if key not in self._modules:
            raise KeyError(key)
        delattr(self, key)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def clear(self) -> None:
        self._set_modules(())

    def pop(self, key: str) -> Module:
        value = self[key]
        del self[key]
        return value

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules) -> None:
        if not isinstance(modules, container_abcs.Iterable):
            raise TypeError(f"ModuleDict.update should be called with an iterable of key/value "
                            f"pairs, but got {type(modules).__name__}")
        if isinstance(modules, (container_abcs.Mapping, ModuleDict)):
            for key, module in modules.items():
                self[key] = module
            return
        for j, pair in enumerate(modules):
            if not isinstance(pair, container_abcs.Iterable):
                raise TypeError(f"ModuleDict update sequence element #{j} should be Iterable; "
                                f"is{type(pair).__name__}")
            if len(pair) != 2:
                raise ValueError(f"ModuleDict update sequence element #{j} has length "
                                 f"{len(pair)}; 2 is required")
            self[pair[0]] = pair[1]

    def forward(self, *args):  # pragma: no cover - a dict is not callable
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required "
                                  f"\"forward\" function")
