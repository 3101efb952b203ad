"""Module and Parameter: the base of every layer, as in PyTorch.

Assigning a :class:`Parameter`, a :class:`Module` or (to a registered name) a buffer registers it,
so ``parameters()``, ``state_dict()`` and ``train()/eval()`` reach the whole tree with no
bookkeeping in the layers themselves. Registered values also live in the instance ``__dict__``, so
``self.weight`` in a forward is a plain attribute read (PyTorch goes through ``__getattr__``).

>>> class Net(nn.Module):
...     def __init__(self): super().__init__(); self.fc = nn.Linear(2, 1)
...     def forward(self, x): return self.fc(x)
"""

from __future__ import annotations

import warnings
from collections import OrderedDict
from collections.abc import Iterator, Mapping

import numpy as np

from deepnum import dtypes, fast
from deepnum.device import check as check_device
from deepnum.nn import hooks
from deepnum.nn import module_tensors as tensors
from deepnum.tensor import Tensor
from deepnum.utils.hooks import RemovableHandle, add_hook


def changed() -> None:
    """A module tree changed shape (a child added or removed, a hook registered or removed, a
    forward replaced): the speed wing's plans made from it (a Sequential's fusion plan, compiled
    stages) are made again."""
    fast.replan()


class Parameter(Tensor):
    """A tensor that a Module owns and an optimizer updates (requires_grad by default)."""

    __slots__ = ()

    def __init__(self, data=None, requires_grad: bool = True):
        if data is None:
            data = np.empty((0,), dtype=dtypes.default_float())
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
        object.__setattr__(self, "_non_persistent_buffers_set", set())
        object.__setattr__(self, "training", True)

    # --------------------------------------------------------------- registration
    def __setattr__(self, name: str, value) -> None:
        params = self.__dict__.get("_parameters")
        modules = self.__dict__.get("_modules")
        buffers = self.__dict__.get("_buffers")
        if isinstance(value, Parameter):
            _before_init(params, "parameters", self)
            self._forget(name, keep=self._parameters)
            self.register_parameter(name, value)
            return
        if params is not None and name in params:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as parameter '{name}' "
                                f"(deepnum.nn.Parameter or None expected)")
            self.register_parameter(name, None)
            return
        if isinstance(value, Module):
            _before_init(modules, "module", self)
            self._forget(name, keep=modules)
            modules[name] = value
            changed()
        elif modules is not None and name in modules:
            if value is not None:
                raise TypeError(f"cannot assign '{_typename(value)}' as child module '{name}' "
                                f"(deepnum.nn.Module or None expected)")
            modules[name] = None
            changed()
        elif buffers is not None and name in buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign '{_typename(value)}' as buffer '{name}' "
                                f"(deepnum.Tensor or None expected)")
            buffers[name] = value
        elif name == "forward":  # a replaced forward: containers must not fuse this module
            changed()
        object.__setattr__(self, name, value)

    def _forget(self, name: str, keep: dict) -> None:
        """Drop ``name`` from the registries other than ``keep`` (where it is about to be
        registered, in the same place if it was there: the order of children stays)."""
        for registry in (self._parameters, self._buffers, self._modules):
            if registry is not keep and registry.pop(name, None) is not None \
                    and registry is self._modules:
                changed()
        self._non_persistent_buffers_set.discard(name)
        self.__dict__.pop(name, None)

    def __delattr__(self, name: str) -> None:
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self._non_persistent_buffers_set.discard(name)
        changed()
        object.__delattr__(self, name)

    def _check_name(self, name, kind: str, registry: dict) -> None:
        """PyTorch's checks on a name to register, with its messages."""
        if not isinstance(name, str):
            raise TypeError(f"{kind} name should be a string. Got {_typename(name)}")
        if "." in name:
            raise KeyError(f"{kind} name can't contain \".\"" +
                           (f", got: {name}" if kind == "module" else ""))
        if name == "":
            raise KeyError(f"{kind} name can't be empty string \"\"")
        # an attribute that is None (``self.bias = None`` before registering it) may be
        # registered over; PyTorch refuses that too, deepnum's layers rely on it
        if name not in registry and getattr(self, name, None) is not None:
            raise KeyError(f"attribute '{name}' already exists")

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """State that is not trained (BatchNorm's running mean); saved in ``state_dict`` unless
        ``persistent=False``."""
        _before_init(self.__dict__.get("_buffers"), "buffer", self)
        self._check_name(name, "buffer", self._buffers)
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"cannot assign '{_typename(tensor)}' object to buffer '{name}' "
                            f"(deepnum.Tensor or None required)")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers_set.discard(name)
        else:
            self._non_persistent_buffers_set.add(name)
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        _before_init(self.__dict__.get("_parameters"), "parameter", self)
        self._check_name(name, "parameter", self._parameters)
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"cannot assign '{_typename(param)}' object to parameter '{name}' "
                            f"(deepnum.nn.Parameter or None required)")
        self._parameters[name] = param
        object.__setattr__(self, name, param)

    def add_module(self, name: str, module: Module | None) -> None:
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"{_typename(module)} is not a Module subclass")
        _before_init(self.__dict__.get("_modules"), "module", self)
        self._check_name(name, "module", self._modules)
        self._modules[name] = module
        object.__setattr__(self, name, module)
        changed()

    register_module = add_module

    def _set_modules(self, items) -> None:
        """Replace all children by ``items`` (name, module) pairs: the containers' renumbering."""
        for name in self._modules:
            self.__dict__.pop(name, None)
        self._modules.clear()
        for name, module in items:
            self._modules[name] = module
            object.__setattr__(self, name, module)
        changed()

    # --------------------------------------------------------------- calling
    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"Module [{type(self).__name__}] is missing the required "
                                  f"\"forward\" function")

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
    def named_modules(self, memo: set | None = None, prefix: str = "",
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Module]]:
        """This module and every descendant with its dotted name; a module reached twice (shared)
        is listed once unless ``remove_duplicate=False``."""
        memo = set() if memo is None else memo
        if self in memo:
            return
        if remove_duplicate:
            memo.add(self)
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name,
                                               remove_duplicate)

    def modules(self, remove_duplicate: bool = True) -> Iterator[Module]:
        for _, module in self.named_modules(remove_duplicate=remove_duplicate):
            yield module

    def named_children(self) -> Iterator[tuple[str, Module]]:
        memo = set()
        for name, module in self._modules.items():
            if module is not None and module not in memo:
                memo.add(module)
                yield name, module

    def children(self) -> Iterator[Module]:
        for _, module in self.named_children():
            yield module

    def _named_members(self, registry: str, prefix: str, recurse: bool, remove_duplicate: bool):
        memo = set()
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate) \
            if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in memo:
                    continue
                if remove_duplicate:  # shared weights are listed once
                    memo.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True,
                         remove_duplicate: bool = True) -> Iterator[tuple[str, Parameter]]:
        return self._named_members("_parameters", prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True,
                      remove_duplicate: bool = True) -> Iterator[tuple[str, Tensor]]:
        return self._named_members("_buffers", prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def get_submodule(self, target: str) -> Module:
        """The module at dotted path ``target`` ("" is this module)."""
        module = self
        for item in target.split(".") if target else ():
            if not hasattr(module, item):
                raise AttributeError(f"{module._get_name()} has no attribute `{item}`")
            module = getattr(module, item)
            if not isinstance(module, Module):
                raise AttributeError(f"`{item}` is not an nn.Module")
        return module

    def set_submodule(self, target: str, module: Module, strict: bool = False) -> None:
        if target == "":
            raise ValueError("Cannot set the submodule without a target name!")
        if not isinstance(module, Module):
            raise ValueError(f"`module` is not an nn.Module, found {type(module)}")
        parent_path, _, name = target.rpartition(".")
        parent = self.get_submodule(parent_path)
        if strict and not hasattr(parent, name):
            raise AttributeError(f"{parent._get_name()} has no attribute `{name}`")
        if hasattr(parent, name) and not isinstance(getattr(parent, name), Module):
            raise AttributeError(f"`{name}` is not an nn.Module")
        setattr(parent, name, module)

    def get_parameter(self, target: str) -> Parameter:
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        if not isinstance(getattr(module, name), Parameter):
            raise AttributeError(f"`{name}` is not an nn.Parameter")
        return getattr(module, name)

    def get_buffer(self, target: str) -> Tensor:
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path)
        if not hasattr(module, name):
            raise AttributeError(f"{module._get_name()} has no attribute `{name}`")
        if name not in module._buffers:
            raise AttributeError(f"`{name}` is not a buffer")
        return getattr(module, name)

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.array.size for p in self.parameters() if p.requires_grad or not trainable_only)

    # --------------------------------------------------------------- modes
    def train(self, mode: bool = True) -> Module:
        if not isinstance(mode, bool):
            raise ValueError("training mode is expected to be boolean")
        self.training = mode
        for module in self.children():
            module.train(mode)
        return self

    def eval(self) -> Module:
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad = p.grad.detach() if p.grad._ctx is not None else p.grad
                p.grad.array[...] = 0

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def apply(self, fn) -> Module:
        """``fn(module)`` on every descendant, children first, then this module."""
        for module in self.children():
            module.apply(fn)
        fn(self)
        return self

    # --------------------------------------------------------------- dtype and device
    def _apply(self, convert, recurse: bool = True) -> Module:
        """``convert(array)`` for every parameter (and its gradient) and buffer, in place."""
        return tensors.apply_(self, convert, recurse)

    def to(self, *args, **kwargs) -> Module:
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(tensor)``: casts the
        floating-point parameters and buffers; only the CPU exists (``to('cuda')`` raises)."""
        return tensors.to(self, args, kwargs)

    def cpu(self) -> Module:
        return self

    def cuda(self, device=None) -> Module:
        check_device("cuda" if device is None else device, "module")
        return self

    def type(self, dst_type) -> Module:
        """Cast every parameter and buffer (integer ones too) to ``dst_type``."""
        return tensors.cast(self, dst_type, floating_only=False)

    def astype(self, dtype) -> Module:
        """Cast every floating parameter and buffer in place (deepnum's name for ``.to(dtype)``)."""
        return tensors.cast(self, dtype)

    def double(self) -> Module:
        return self.astype(np.float64)

    def float(self) -> Module:
        return self.astype(np.float32)

    def half(self) -> Module:
        return self.astype(np.float16)

    def bfloat16(self) -> Module:
        raise TypeError("deepnum has no bfloat16 (NumPy has no such type); use half() or float()")

    def share_memory(self) -> Module:
        return self  # one process, one memory: nothing to move

    # --------------------------------------------------------------- state
    def named_state(self) -> Iterator[tuple[str, Tensor]]:
        """Every parameter and persistent buffer with its dotted name, in state_dict order (the
        one walk that state_dict, load_state_dict and model files share). A shared module or
        weight appears under each of its names, as in PyTorch's state_dict."""
        for module_name, module in self.named_modules(remove_duplicate=False):
            skip = module._non_persistent_buffers_set
            for registry in (module._parameters, module._buffers):
                for name, t in registry.items():
                    if t is not None and not (registry is module._buffers and name in skip):
                        yield (f"{module_name}.{name}" if module_name else name), t

    def state_dict(self, *args, destination=None, prefix: str = "", keep_vars: bool = False):
        """Name -> Tensor for every parameter and persistent buffer, with PyTorch's names and
        layouts. The tensors share memory with the module, detached from the graph
        (``keep_vars=True``: the Parameters themselves)."""
        if args:
            warnings.warn("Positional args are being deprecated, use kwargs instead.",
                          FutureWarning, stacklevel=2)
            destination = args[0] if destination is None else destination
            prefix = args[1] if len(args) > 1 and prefix == "" else prefix
            keep_vars = args[2] if len(args) > 2 and keep_vars is False else keep_vars
        destination = OrderedDict() if destination is None else destination
        for name, t in self.named_state():
            destination[prefix + name] = t if keep_vars else t.detach()
        return destination

    def load_state_dict(self, state_dict: Mapping, strict: bool = True, assign: bool = False):
        """Copy tensors into this module's parameters and buffers, checking names and shapes;
        returns ``(missing_keys, unexpected_keys)``. Values may be Tensors, ndarrays or PyTorch
        tensors, so a PyTorch state dict loads unchanged. ``strict=False`` allows missing and
        unexpected keys (not wrong shapes); ``assign=True`` makes the given tensors the module's
        (a Parameter keeps its requires_grad). Everything is checked before anything changes."""
        return tensors.load_state_dict(self, state_dict, strict, assign)

    # --------------------------------------------------------------- printing
    def _get_name(self) -> str:
        return type(self).__name__

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        extra_lines = extra.split("\n") if extra else []
        child_lines = [f"({name}): {_addindent(repr(module), 2)}"
                       for name, module in self._modules.items()]
        lines = extra_lines + child_lines
        text = self._get_name() + "("
        if lines:
            if len(extra_lines) == 1 and not child_lines:  # a one-line layer: Linear(...)
                text += extra_lines[0]
            else:
                text += "\n  " + "\n  ".join(lines) + "\n"
        return text + ")"


def _addindent(text: str, spaces: int) -> str:
    first, *rest = text.split("\n")
    if not rest:
        return text
    return "\n".join([first] + [" " * spaces + line if line.strip() else "" for line in rest])


def _before_init(registry, what: str, module) -> None:
    if registry is None:
        raise AttributeError(f"cannot assign {what} before Module.__init__() call (call "
                             f"super().__init__() first in {type(module).__name__}.__init__)")


def _typename(value) -> str:
    """PyTorch's torch.typename: 'int', 'numpy.ndarray', 'deepnum.FloatTensor'..."""
    if isinstance(value, Tensor):
        return value.type()
    cls = type(value)
    return cls.__qualname__ if cls.__module__ in ("", "builtins") else \
        f"{cls.__module__}.{cls.__qualname__}"
