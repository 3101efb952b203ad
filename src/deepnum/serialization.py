"""dn.save and dn.load, and model files: weights in safetensors, the architecture as JSON in the
same file. No pickle.

A model file is one ``.safetensors`` file (deepnum.file_format). Its arrays are the model's
``state_dict()``; its metadata holds the architecture, written from the constructor arguments
that ``Module.__new__`` records (``module._init_args``; containers describe their current
children): class name, arguments, nested modules. Loading rebuilds the model from that JSON,
instantiating only classes from deepnum's own whitelist (layers in ``deepnum.nn`` and models in
``deepnum.models``); it never unpickles, evaluates or imports a name taken from the file. Any
other object (a state dict, an optimizer's state, a dict of those with plain values) goes in an
object file (deepnum.object_file), as ``torch.save`` would pickle it.

>>> dn.save(model, "digits.safetensors")
>>> model = dn.load("digits.safetensors")     # rebuilt without your code
>>> dn.save({"epoch": 3, "model": model.state_dict()}, "ckpt.pt"); dn.load("ckpt.pt")["epoch"]
"""

from __future__ import annotations

import json
import weakref
from collections import OrderedDict
from pathlib import Path

import numpy as np

from deepnum.creation import BudgetExceeded, allocation_budget
from deepnum.errors import ModelFileError
from deepnum.file_format import (  # noqa: F401 - the format's functions, re-exported
    FORMAT_VERSION,
    _read_bytes,
    atomic_write,
    read_bytes,
    read_file,
    remove_stale_temporaries,
    to_bytes,
    write_file,
)

MODEL_KIND = "deepnum.model"
WEIGHTS_KIND = "deepnum.weights"
CHECKPOINT_KIND = "deepnum.checkpoint"  # deepnum.train.checkpoint's files
MAX_PADDING = 64  # a model file's convolutions may pad by their kernel's reach, or this much
_MAX_MODULES = 100_000  # modules one architecture may ask for (ResNet-152 has ~500)
# safetensors dtypes deepnum reads, as NumPy types (NumPy has no bfloat16 or float8)
_DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I8": np.int8,
           "I16": np.int16, "I32": np.int32, "I64": np.int64, "U8": np.uint8, "U16": np.uint16,
           "U32": np.uint32, "U64": np.uint64, "BOOL": np.bool_}


# ----------------------------------------------------------------------------- public API
def save(obj, f, metadata: dict | None = None, pickle_module=None, pickle_protocol=None,
         **kwargs):
    """Write ``obj`` to ``f`` (a path, written atomically, or a binary file object), as
    ``torch.save`` but without pickle; returns the path (or ``f``).

    A Module is written as a model file (weights + architecture, :func:`load` rebuilds it
    without your code); anything else (a state dict, an optimizer's state, a dict of those with
    epochs and losses...) as an object file (see deepnum.object_file). ``metadata`` is a
    JSON-friendly dict kept alongside. ``pickle_module``/``pickle_protocol`` are accepted and
    unused: nothing is pickled.

    >>> dn.save(model, "runs/digits/model.safetensors", metadata={"dataset": "digits"})
    >>> dn.save({"epoch": 5, "model": model.state_dict(), "optimizer": opt.state_dict()}, f)
    """
    from deepnum.nn.module import Module

    if isinstance(obj, Module):
        architecture = architecture_of(obj)
        _check_rebuildable(obj, architecture)
        arrays, meta, kind = dict(obj.state_dict()), {"architecture": architecture,
                                                      "user": metadata or {}}, MODEL_KIND
    else:
        from deepnum.object_file import OBJECT_KIND, encode

        (arrays, meta), kind = encode(obj, metadata), OBJECT_KIND
    if hasattr(f, "write"):
        f.write(to_bytes(arrays, meta, kind))
        return f
    return write_file(f, arrays, meta, kind)


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, model=None,
         return_metadata: bool = False, **kwargs):
    """What :func:`save` wrote to ``f`` (a path or a binary file object), as ``torch.load``: a
    model file gives the rebuilt model (or loads its weights into ``model`` if given), an object
    file the object (state dicts hold Tensors), a weights file its tensors, a Trainer
    checkpoint its state. Nothing in a file is executed, so ``weights_only`` (either value) is
    what you get anyway; ``map_location`` may only name the CPU (the only device);
    ``pickle_module`` and ``mmap`` are accepted and unused.

    >>> model = dn.load("model.safetensors")
    >>> state = dn.load("checkpoint.pt", map_location="cpu", weights_only=True)
    >>> model, info = dn.load("model.safetensors", return_metadata=True)   # save()'s metadata
    """
    _check_map_location(map_location)
    source = getattr(f, "name", "<file object>") if hasattr(f, "read") else f
    raw = f.read() if hasattr(f, "read") else _read_bytes(f)
    from deepnum.object_file import OBJECT_KIND

    kinds = (MODEL_KIND, OBJECT_KIND, WEIGHTS_KIND, CHECKPOINT_KIND)
    arrays, meta, kind = read_bytes(raw, source, kinds)
    if kind == OBJECT_KIND:
        from deepnum.object_file import decode

        result = decode(arrays, meta, source)
    elif kind == WEIGHTS_KIND:
        from deepnum.tensor import Tensor

        order = meta.get("order")
        if not (isinstance(order, list) and sorted(map(str, order)) == sorted(arrays)):
            order = list(arrays)  # written before "order" was kept, or edited: the file's order
        result = OrderedDict((k, Tensor._wrap(arrays[k])) for k in order)
    elif kind == CHECKPOINT_KIND:
        from deepnum.train.checkpoint import unpack_checkpoint

        result = unpack_checkpoint(arrays, meta, source)
    else:
        return _load_model(arrays, meta, source, model, return_metadata)
    return (result, meta.get("user", {})) if return_metadata else result


def _load_model(arrays, meta, path, model, return_metadata):
    if model is None:
        check_plausible(meta.get("architecture"), arrays, path)
        # the rebuilt model may hold no more numbers than the file's tensors (plus a little
        # for anything a layer keeps that is not saved): a tiny file cannot make deepnum
        # allocate a huge model before its weights are found missing
        held = sum(a.size for a in arrays.values())
        try:
            with allocation_budget(held + 4096 + held // 8):
                model = rebuild(meta.get("architecture"), path)
        except BudgetExceeded as error:
            raise ModelFileError(f"{path}: the architecture describes more weights than the "
                                 f"file's {held:,} numbers ({error}); refusing to build it"
                                 ) from None
        check_geometry(model, path)
    load_weights(model, arrays, path)
    return (model, meta.get("user", {})) if return_metadata else model


def check_geometry(model, path) -> None:
    """Refuse a convolution or pool that pads by more than its kernel reaches and more than
    MAX_PADDING: legal in PyTorch, but no trained model does it, and a tampered padding is how a
    2 KB file asks for 20 GB of activations (Conv2d(1, 4, 3, padding=1059) on 48 images of
    8 x 8: a 15 GB im2col matrix)."""
    for name, module in model.named_modules():
        padding, kernel = getattr(module, "padding", None), getattr(module, "kernel_size", None)
        if isinstance(padding, str) or padding is None or kernel is None:
            continue
        pads, kernels = np.ravel(padding), np.ravel(kernel)
        dilations = np.ravel(getattr(module, "dilation", 1) or 1)
        if pads.size == 0 or kernels.size == 0 or pads.dtype.kind not in "iu":
            continue
        reach = dilations * (kernels - 1) + 1  # the kernel's extent along each axis
        if pads.max() > max(reach.max(), MAX_PADDING):
            raise ModelFileError(f"{path}: layer '{name or type(module).__name__}' "
                                 f"({type(module).__name__}) pads by {tuple(pads.tolist())}, more "
                                 f"than its kernel reaches ({tuple(reach.tolist())}) and more than "
                                 f"{MAX_PADDING}; refusing it")


def _check_map_location(map_location) -> None:
    """Only the CPU exists: None, 'cpu', a cpu device, {from: 'cpu'} or a function (PyTorch's
    ``lambda storage, loc: storage``, which puts everything where it was: the CPU)."""
    from deepnum.device import check as check_device

    if map_location is None or callable(map_location) and not isinstance(map_location, str):
        return
    targets = map_location.values() if isinstance(map_location, dict) else [map_location]
    for target in targets:
        check_device(getattr(target, "type", target), "loaded tensor")


def load_weights(model, arrays: dict, path) -> None:
    """Copy ``arrays`` into ``model``'s parameters and buffers, keeping the saved dtypes."""
    own = dict(model.named_state())
    missing = sorted(set(own) - set(arrays))
    unexpected = sorted(set(arrays) - set(own))
    if missing or unexpected:
        raise ModelFileError(f"{path}: the weights do not fit the model (missing {missing[:5]}, "
                             f"unexpected {unexpected[:5]})")
    for key, t in own.items():  # check them all before copying any
        value = arrays[key]
        if value.shape != t.array.shape:
            raise ModelFileError(f"{path}: weight '{key}' has shape {value.shape} in the file but "
                                 f"{t.array.shape} in the model")
        if value.dtype != t.array.dtype and not (value.dtype.char in "fd"
                                                and t.array.dtype.char in "fd"):
            raise ModelFileError(f"{path}: weight '{key}' is {value.dtype} in the file but "
                                 f"{t.array.dtype} in the model")
    for key, t in own.items():
        value = arrays[key]
        if value.dtype == t.array.dtype:
            t.array[...] = value
        else:  # keep the saved precision (a float64 model stays float64)
            t.array = np.array(value, copy=True)


# ----------------------------------------------------------------------------- architecture
def architecture_of(module) -> dict:
    """The JSON description of ``module``: its class and constructor arguments, recursively."""
    cls = type(module)
    if _whitelist().get(cls.__name__) is not cls:
        raise ModelFileError(
            f"cannot save the architecture of {cls.__module__}.{cls.__qualname__}: only deepnum's "
            f"own layers and registered models can be rebuilt from a file. Build the model from "
            f"them (e.g. nn.Sequential), or save the weights: dn.save(model.state_dict(), path)"
            f", and load them into a model you build with model.load_state_dict(dn.load(path))")
    # containers describe their current children (so append/insert/del still save); other
    # modules the arguments their constructor was called with
    args, kwargs = module._architecture() if "_architecture" in vars(cls) else \
        getattr(module, "_init_args", ((), {}))
    return {"class": cls.__name__, "args": [_encode(a) for a in args],
            "kwargs": {k: _encode(v) for k, v in kwargs.items()}}


def check_plausible(spec, arrays: dict, path) -> None:
    """Refuse an architecture with a size no weight in the file could have (e.g. a tampered
    Linear(10**9, 10**9)), before anything is allocated."""
    limit = max(4096, sum(a.size for a in arrays.values()))
    stack, modules = [spec], 0
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            modules += "module" in value
            if modules > _MAX_MODULES:
                raise ModelFileError(f"{path}: the architecture asks for more than "
                                     f"{_MAX_MODULES:,} modules; refusing to build it")
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > limit:
            raise ModelFileError(f"{path}: the architecture holds the number {value}, beyond "
                                 f"the size of all the file's weights together ({limit:,}); "
                                 f"refusing to build it")


def rebuild(spec, path="<architecture>"):
    """Instantiate the model that :func:`architecture_of`'s JSON describes (whitelisted classes)."""
    from deepnum.random import get_state, set_state

    state = get_state()  # building initialises weights: leave the user's random stream untouched
    try:
        return _decode({"module": spec}, path)
    except ModelFileError:
        raise
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as error:
        raise ModelFileError(f"{path}: the architecture cannot be rebuilt: {error}") from None
    finally:
        set_state(state)


def _whitelist() -> dict:
    """Class name -> class for every Module subclass defined inside deepnum (layers and models)."""
    import deepnum.models  # noqa: F401 - registers the models, so their classes exist
    import deepnum.nn  # noqa: F401 - every layer class, so the whitelist finds them
    import deepnum.onnx.graph  # noqa: F401 - OnnxGraph, an imported ONNX model (no onnx needed)
    from deepnum.nn.module import Module

    found, stack = {}, [Module]
    while stack:
        cls = stack.pop()
        if cls.__module__.startswith("deepnum.") and not cls.__name__.startswith("_"):
            found.setdefault(cls.__name__, cls)
        stack.extend(cls.__subclasses__())
    return found


def _encode(value):
    from deepnum.nn.module import Module, Parameter
    from deepnum.tensor import Tensor

    if isinstance(value, Module):
        return {"module": architecture_of(value)}
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, list)):
        return {"tuple" if isinstance(value, tuple) else "list": [_encode(v) for v in value]}
    if isinstance(value, dict):  # Sequential(OrderedDict(name=module, ...))
        return {"dict": [[str(k), _encode(v)] for k, v in value.items()]}
    if isinstance(value, (np.dtype, type)) and np.dtype(value).kind in "fiub":
        return {"dtype": np.dtype(value).name}
    if isinstance(value, Tensor):  # ParameterList's entries: their values come from the weights
        return {"tensor": {"shape": list(value.shape), "dtype": value.array.dtype.name,
                           "parameter": isinstance(value, Parameter)}}
    raise ModelFileError(f"cannot write constructor argument {value!r} "
                         f"({type(value).__name__}) as JSON")


_ARGUMENT_DTYPES = ("float16", "float32", "float64", "int32", "int64", "bool")


def _decode(value, path):
    from deepnum.creation import zeros
    from deepnum.nn.module import Parameter

    if isinstance(value, list) or (isinstance(value, float) and not np.isfinite(value)):
        raise ModelFileError(f"{path}: malformed architecture value {value!r}")
    if not isinstance(value, dict):
        return value
    if len(value) != 1:
        raise ModelFileError(f"{path}: malformed architecture entry {str(value)[:80]}")
    (tag, body), = value.items()
    if tag == "module":
        if not isinstance(body, dict) or not isinstance(body.get("class"), str):
            raise ModelFileError(f"{path}: malformed module entry {str(body)[:80]}")
        cls = _whitelist().get(body["class"])
        if cls is None:
            raise ModelFileError(f"{path}: the architecture names class {body['class']!r}, which "
                                 f"is not one of deepnum's layers or models; refusing to build it")
        args = [_decode(a, path) for a in body.get("args", [])]
        kwargs = {str(k): _decode(v, path) for k, v in body.get("kwargs", {}).items()}
        return cls(*args, **kwargs)
    if tag in ("tuple", "list") and isinstance(body, list):
        items = [_decode(v, path) for v in body]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict" and isinstance(body, list):
        return OrderedDict((str(k), _decode(v, path)) for k, v in body)
    if tag == "dtype" and body in _ARGUMENT_DTYPES:
        return np.dtype(body).type
    if tag == "tensor" and isinstance(body, dict) and body.get("dtype") in _ARGUMENT_DTYPES \
            and isinstance(body.get("shape"), list):
        t = zeros(*body["shape"], dtype=np.dtype(body["dtype"]).type)  # within the budget
        return Parameter(t) if body.get("parameter") is True else t
    raise ModelFileError(f"{path}: unknown architecture entry {tag!r}")


_checked = weakref.WeakKeyDictionary()  # model -> architecture JSON already verified


def _check_rebuildable(model, architecture: dict) -> None:
    """Catch, at save time, a model changed after construction (e.g. Sequential.append)."""
    key = json.dumps(architecture, sort_keys=True)
    if _checked.get(model) == key:
        return
    twin = rebuild(architecture)
    mine = {k: v.shape for k, v in model.state_dict().items()}
    theirs = {k: v.shape for k, v in twin.state_dict().items()}
    if mine != theirs:
        raise ModelFileError(
            f"cannot save {type(model).__name__}: rebuilding it from its constructor arguments "
            f"gives different weights ({sorted(set(mine) ^ set(theirs))[:3] or 'shapes differ'}); "
            f"was it changed after construction?")
    _checked[model] = key


# ----------------------------------------------------------------------------- weights only
def save_state_dict(state: dict, path, metadata: dict | None = None) -> Path:
    """Weights only (for models deepnum cannot rebuild): arrays + optional JSON metadata."""
    # safetensors sorts its tensors by name; "order" keeps the state dict's, as torch.load does
    return write_file(path, dict(state), {"user": metadata or {}, "order": list(state)},
                      WEIGHTS_KIND)


def load_state_dict(path) -> dict:
    """The arrays written by :func:`save_state_dict` (or a model file's weights)."""
    arrays, _ = read_file(path, (WEIGHTS_KIND, MODEL_KIND))
    return arrays
