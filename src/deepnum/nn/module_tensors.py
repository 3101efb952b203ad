"""What a Module does to all its tensors at once: load a state dict, change their dtype.

``Module.load_state_dict`` and ``Module.to/type/double/...`` are one-liners calling these, so
module.py stays the readable list of what a Module is.

>>> model.load_state_dict(torch_model.state_dict())   # <All keys matched successfully>
"""

from __future__ import annotations

from collections import OrderedDict, namedtuple
from collections.abc import Mapping

import numpy as np

from deepnum import dtypes
from deepnum.device import check as check_device
from deepnum.device import device as Device
from deepnum.errors import StateDictError
from deepnum.tensor import Size, Tensor


class _IncompatibleKeys(namedtuple("IncompatibleKeys", ["missing_keys", "unexpected_keys"])):
    """What ``load_state_dict`` returns: the keys the module has and the state dict lacks, and
    the keys the state dict has and the module lacks (PyTorch's named tuple)."""

    __slots__ = ()

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return super().__repr__()

    __str__ = __repr__


def load_state_dict(module, state_dict: Mapping, strict: bool, assign: bool) -> _IncompatibleKeys:
    """Module.load_state_dict: PyTorch's checks and messages (a StateDictError, PyTorch's
    RuntimeError), except that nothing is changed unless everything fits."""
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"Expected state_dict to be dict-like, got {type(state_dict)}.")
    own = OrderedDict(module.named_state())
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    errors, values = [], {}
    for key, t in own.items():
        if key in state_dict:
            value, problem = _as_state_array(state_dict[key], key, t)
            if problem:
                errors.append(problem)
            values[key] = value
    if strict and unexpected:
        errors.insert(0, "Unexpected key(s) in state_dict: {}. ".format(
            ", ".join(f'"{k}"' for k in unexpected)))
    if strict and missing:
        errors.insert(0, "Missing key(s) in state_dict: {}. ".format(
            ", ".join(f'"{k}"' for k in missing)))
    if errors:
        raise StateDictError(f"Error(s) in loading state_dict for {type(module).__name__}:\n\t"
                             + "\n\t".join(errors))
    for key, value in values.items():
        if assign:
            _assign(module, key, own[key], state_dict[key], value)
        else:
            own[key].array[...] = value  # cast to the module's dtype, as PyTorch's copy_
    return _IncompatibleKeys(missing, unexpected)


def _assign(module, key: str, old: Tensor, given, array: np.ndarray) -> None:
    """load_state_dict(assign=True): the given tensor replaces the module's."""
    from deepnum.nn.module import Parameter

    path, _, name = key.rpartition(".")
    owner = module.get_submodule(path)
    new = given if isinstance(given, Tensor) else Tensor._wrap(np.asarray(array))
    if isinstance(old, Parameter):
        new = new if isinstance(new, Parameter) else Parameter(new)
        new.requires_grad = old.requires_grad
        owner.register_parameter(name, new)
    else:
        owner._buffers[name] = new
        object.__setattr__(owner, name, new)


def _as_state_array(value, key: str, t: Tensor):
    """(array, None) for a state-dict value that fits tensor ``t``, or (None, why not)."""
    if isinstance(value, Tensor):
        value = value.array
    elif hasattr(value, "detach") and hasattr(value, "numpy"):  # a PyTorch tensor
        value = value.detach().cpu().numpy()
    elif not isinstance(value, (np.ndarray, np.generic)):
        return None, (f'While copying the parameter named "{key}", expected deepnum.Tensor or '
                      f'Tensor-like object from checkpoint but received {type(value)}')
    value = np.asarray(value)
    if value.dtype.kind not in "fiubc":
        return None, f'While copying the parameter named "{key}": it holds {value.dtype} values'
    if t.array.ndim == 0 and value.shape == (1,):  # PyTorch's allowance for old checkpoints
        value = value.reshape(())
    if value.shape != t.array.shape:
        return None, (f"size mismatch for {key}: copying a param with shape {Size(value.shape)!r}"
                      f" from checkpoint, the shape in current model is {Size(t.shape)!r}.")
    return value, None


# ------------------------------------------------------------------------------- dtype, device
def apply_(module, convert, recurse: bool = True):
    """Replace the array of every parameter (and its gradient) and buffer by ``convert(array)``,
    in place: the Parameter objects stay, so an optimizer built before ``model.double()`` still
    holds them (PyTorch keeps them too)."""
    seen = set()
    for owner in module.modules() if recurse else [module]:
        for t in list(owner._parameters.values()) + list(owner._buffers.values()):
            if t is None or id(t) in seen:
                continue
            seen.add(id(t))
            t.array = convert(t.array)
            if t.grad is not None:
                t.grad.array = convert(t.grad.array)
    return module


def cast(module, dtype, floating_only: bool = True):
    """Every (floating) parameter and buffer as ``dtype``."""
    target = np.dtype(dtype_of(dtype).numpy)
    return apply_(module, lambda a: a.astype(target, copy=False)
                  if a.dtype.kind in "fc" or not floating_only else a)


def to(module, args, kwargs):
    device, dtype = _parse_to(args, dict(kwargs))
    check_device(device, "module")
    if dtype is None:
        return module
    if not (dtype.is_floating_point or dtype.is_complex):
        raise TypeError(f"nn.Module.to only accepts floating point or complex dtypes, but got "
                        f"desired dtype={dtype}")
    return cast(module, dtype)


def dtype_of(value) -> dtypes.dtype:
    """A deepnum dtype from a dtype, a NumPy type, a name or a legacy 'torch.FloatTensor'."""
    if isinstance(value, str) and value.endswith("Tensor"):
        from deepnum.tensor import _TYPE_BY_NAME

        if value not in _TYPE_BY_NAME:
            raise ValueError(f"invalid type: '{value}'")
        value = _TYPE_BY_NAME[value]
    return dtypes.as_dtype(value)


def _parse_to(args, kwargs):
    """(device, dtype) from Module.to's forms, as torch._C._nn._parse_to."""
    device, dtype = kwargs.pop("device", None), kwargs.pop("dtype", None)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"to() received an invalid combination of arguments: {sorted(kwargs)}")
    for a in args:
        if isinstance(a, Tensor):
            device, dtype = a.device, a.dtype
        elif isinstance(a, bool):
            continue  # non_blocking, positionally
        elif isinstance(a, Device) or (isinstance(a, str) and a not in dtypes._BY_NAME):
            device = a
        else:
            dtype = a
    return device, None if dtype is None else dtype_of(dtype)
