"""Module and Parameter: the base of every layer, as in PyTorch.

Assigning a :class:`Parameter` or a :class:`Module` to an attribute registers it, so
``parameters()``, ``state_dict()`` and ``train()/eval()`` reach the whole tree with no bookkeeping
in the layers themselves.

>>> class Net(nn.Module):
...     def __init__(self): super().__init__(); self.fc = nn.Linear(2, 1)
...     def forward(self, x): return self.fc(x)
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator

import numpy as np

from deepnum.errors import ShapeError
from deepnum.nn import hooks
from deepnum.tensor import Tensor
from deepnum.utils.hooks import RemovableHandle, add_hook

# Bumped whenever a module tree changes shape (a child added or removed, a hook registered or
# removed, a forward replaced): containers that cache a fusion plan re-plan when it moves.
_generation = [0]


def changed() -> None:
    _generation[0] += 1


def generation() -> int:
    return _generation[0]


class Parameter(Tensor):
    """A tensor that a Module owns and an optimizer updates (requires_grad by default)."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        array = data.array if isinstance(data, Tensor) else data
        super().__init__(array, requires_grad=requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """Base class for all layers and models. Subclasses define ``forward``."""

    training: bool

    def __new__(cls, *args, **kwargs):
        # Remember the constructor's arguments so a model's architecture can be written as JSON and
        # rebuilt from it (deepnum.serialization) without pickle and without the user's code.
        module = super().__new__(cls)
        object.__setattr__(module, "_init_args", (args, kwargs))
        return module

    def __init__(self):
        for name in ("_parameters", "_buffers", "_modules", "_forward_pre_hooks",
                     "_forward_hooks", "_backward_hooks", "_backward_pre_hooks"):
            object.__setattr__(self, name, OrderedDict())
        object.__setattr__(self, "_hooks_with_kwargs", set())
        object.__setattr__(self, "_has_hooks", False)
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "training", True)

    # --------------------------------------------------------------- registration
    def __setattr__(self, name: str, value) -> None:
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before "
                                 f"assigning attributes")
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
            changed()
        elif name == "forward":  # a replaced forward: containers must not fuse this module
            changed()
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        changed()
        object.__delattr__(self, name)

    def register_buffer(self, name: str, value: Tensor | None) -> None:
        """State that is saved and loaded but not trained (e.g. BatchNorm's running mean)."""
        object.__setattr__(self, name, value)
        self._buffers[name] = value

    def register_parameter(self, name: str, value: Parameter | None) -> None:
        object.__setattr__(self, name, value)
        self._parameters[name] = value

    def add_module(self, name: str, module: Module) -> None:
        setattr(self, name, module)

    # --------------------------------------------------------------- calling
    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        if self._has_hooks:
            return hooks.call_with_hooks(self, args, kwargs)
        return self.forward(*args, **kwargs)

    # --------------------------------------------------------------- hooks (see nn/hooks.py)
    def register_forward_pre_hook(self, hook, *, prepend: bool = False,
                                  with_kwargs: bool = False) -> RemovableHandle:
        """``hook(module, args)`` before forward; returning a value replaces the arguments."""
        return self._add_hook(self._forward_pre_hooks, hook, prepend, with_kwargs)

    def register_forward_hook(self, hook, *, prepend: bool = False, with_kwargs: bool = False,
                              always_call: bool = False) -> RemovableHandle:
        """``hook(module, args, output)`` after forward; returning a value replaces the output."""
        return self._add_hook(self._forward_hooks, hook, prepend, with_kwargs)

    def register_full_backward_pre_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_output)``; returning a value replaces grad_output."""
        return self._add_hook(self._backward_pre_hooks, hook, prepend, False)

    def register_full_backward_hook(self, hook, prepend: bool = False) -> RemovableHandle:
        """``hook(module, grad_input, grad_output)`` once the inputs' gradients are known;
        returning a value replaces grad_input."""
        return self._add_hook(self._backward_hooks, hook, prepend, False)

    def register_backward_hook(self, hook) -> RemovableHandle:
        """PyTorch's deprecated form; deepnum gives it the full backward hook's semantics."""
        return self.register_full_backward_hook(hook)

    def _add_hook(self, table, hook, prepend, with_kwargs) -> RemovableHandle:
        handle = add_hook(table, hook, prepend, on_change=self._hooks_changed)
        if with_kwargs:
            self._hooks_with_kwargs.add(handle.id)
        return handle

    def _hooks_changed(self) -> None:
        object.__setattr__(self, "_has_hooks", bool(
            self._forward_pre_hooks or self._forward_hooks or self._backward_hooks
            or self._backward_pre_hooks))
        changed()

    # --------------------------------------------------------------- traversal
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from ((n, m) for n, m in self._modules.items() if m is not None)

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        seen = set()
        for module_name, module in self.named_modules(prefix):
            for name, p in module._parameters.items():
                if p is not None and id(p) not in seen:  # shared weights are listed once
                    seen.add(id(p))
                    yield (f"{module_name}.{name}" if module_name else name), p

    def parameters(self) -> Iterator[Parameter]:
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self) -> Iterator[tuple[str, Tensor]]:
        for module_name, module in self.named_modules():
            for name, b in module._buffers.items():
                if b is not None:
                    yield (f"{module_name}.{name}" if module_name else name), b

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.array.size for p in self.parameters() if p.requires_grad or not trainable_only)

    # --------------------------------------------------------------- modes
    def train(self, mode: bool = True) -> Module:
        for module in self.modules():
            object.__setattr__(module, "training", mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad.array[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad = requires_grad
        return self

    def apply(self, fn) -> Module:
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    def astype(self, dtype) -> Module:
        """Cast every floating parameter and buffer in place (``model.double()`` in PyTorch)."""
        for t in list(self.parameters()) + [b for _, b in self.named_buffers()]:
            if t.array.dtype.kind == "f":
                t.array = t.array.astype(dtype)
        return self

    def double(self) -> Module:
        return self.astype(np.float64)

    def float(self) -> Module:
        return self.astype(np.float32)

    # --------------------------------------------------------------- state
    def named_state(self) -> Iterator[tuple[str, Tensor]]:
        """Every parameter and buffer with its dotted name, in state_dict order (the one walk
        that state_dict, load_state_dict and model files share)."""
        for module_name, module in self.named_modules():
            for registry in (module._parameters, module._buffers):
                for name, t in registry.items():
                    if t is not None:
                        yield (f"{module_name}.{name}" if module_name else name), t

    def state_dict(self) -> OrderedDict:
        """Name -> ndarray for every parameter and buffer, with PyTorch's names and layouts."""
        return OrderedDict((name, t.array) for name, t in self.named_state())

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy arrays into this module's parameters and buffers, checking names and shapes.

        Values may be ndarrays, Tensors or anything with ``.numpy()`` (a PyTorch tensor), so a
        PyTorch state dict loads unchanged. Returns ``(missing_keys, unexpected_keys)``.
        """
        own = dict(self.named_state())
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"{type(self).__name__}.load_state_dict: missing keys {missing}, "
                           f"unexpected keys {unexpected}")
        values = {}
        for key, t in own.items():  # check every value before changing any
            if key not in state_dict:
                continue
            value = state_dict[key]
            if isinstance(value, Tensor):
                value = value.array
            elif hasattr(value, "detach"):
                value = value.detach().cpu().numpy()
            value = np.asarray(value)
            if value.dtype.kind not in "fiub":
                raise TypeError(f"{type(self).__name__}.load_state_dict: '{key}' holds "
                                f"{value.dtype} values, not numbers")
            if value.shape != t.array.shape:
                raise ShapeError(f"{type(self).__name__}.load_state_dict: '{key}' has shape "
                                 f"{value.shape} in the state dict but {t.array.shape} in the "
                                 f"model")
            values[key] = value
        for key, value in values.items():
            own[key].array[...] = value
        return missing, unexpected

    # --------------------------------------------------------------- printing
    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, module in self._modules.items():
            child = repr(module).replace("\n", "\n  ")
            lines.append(f"({name}): {child}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"
