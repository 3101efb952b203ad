"""Model files: weights in safetensors, the architecture as JSON in the same file. No pickle.

A model file is one ``.safetensors`` file. Its arrays are the model's ``state_dict()``; its
``__metadata__`` holds the architecture, written from the constructor arguments that
``Module.__new__`` records (``module._init_args``): class name, arguments, nested modules. Loading
rebuilds the model from that JSON, instantiating only classes from deepnum's own whitelist (layers
in ``deepnum.nn`` and models in ``deepnum.models``); it never unpickles, evaluates or imports a name
taken from the file. A SHA-256 of the array bytes is kept too, so a truncated, tampered or
wrong-kind file raises :class:`~deepnum.errors.ModelFileError` and nothing in it is executed.

>>> dn.save(model, "digits.safetensors")
>>> model = dn.load("digits.safetensors")     # rebuilt without your code
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import tempfile
import weakref
from collections import OrderedDict
from pathlib import Path

import numpy as np

from deepnum.creation import BudgetExceeded, allocation_budget
from deepnum.errors import ModelFileError
from deepnum.schema import parse

# Version 2's checksum covers the JSON metadata as well as the arrays; version 1 files (arrays
# only) are still read.
FORMAT_VERSION = 2
_READABLE_VERSIONS = ("1", "2")
MODEL_KIND = "deepnum.model"
_MAX_HEADER = 100 * 1024 * 1024  # a header beyond 100 MB is not one we wrote
_MAX_MODULES = 100_000  # modules one architecture may ask for (ResNet-152 has ~500)
# safetensors dtypes deepnum reads, as NumPy types (NumPy has no bfloat16 or float8)
_DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I8": np.int8,
           "I16": np.int16, "I32": np.int32, "I64": np.int64, "U8": np.uint8, "U16": np.uint16,
           "U32": np.uint32, "U64": np.uint64, "BOOL": np.bool_}


# ----------------------------------------------------------------------------- public API
def save(model, path, metadata: dict | None = None) -> Path:
    """Write ``model`` (weights + architecture) to ``path`` atomically; returns the path.

    ``metadata`` is any JSON-friendly dict kept alongside (class names, training config...).

    >>> dn.save(model, "runs/digits/model.safetensors", metadata={"dataset": "digits"})
    """
    architecture = architecture_of(model)
    _check_rebuildable(model, architecture)
    meta = {"architecture": architecture, "user": metadata or {}}
    return write_file(path, dict(model.state_dict()), meta, MODEL_KIND)


def load(path, model=None, return_metadata: bool = False):
    """Rebuild the model saved in ``path`` (or load its weights into ``model`` if given).

    >>> model = dn.load("model.safetensors")
    >>> model, info = dn.load("model.safetensors", return_metadata=True)   # info: save()'s metadata
    """
    arrays, meta = read_file(path, MODEL_KIND)
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
    load_weights(model, arrays, path)
    return (model, meta.get("user", {})) if return_metadata else model


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
            f"them (e.g. nn.Sequential), or save weights only: "
            f"deepnum.serialization.save_state_dict(model.state_dict(), path)")
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


# ----------------------------------------------------------------------------- the file format
def save_state_dict(state: dict, path, metadata: dict | None = None) -> Path:
    """Weights only (for models deepnum cannot rebuild): arrays + optional JSON metadata."""
    return write_file(path, dict(state), {"user": metadata or {}}, "deepnum.weights")


def load_state_dict(path) -> dict:
    """The arrays written by :func:`save_state_dict` (or a model file's weights)."""
    arrays, _ = read_file(path, ("deepnum.weights", MODEL_KIND))
    return arrays


def write_file(path, arrays: dict, meta: dict, kind: str) -> Path:
    """Write a safetensors file whose metadata holds ``meta`` as JSON, atomically.

    The file is written to a temporary name in the same directory, flushed to disk, renamed over
    ``path`` and the directory synced, so a crash leaves either the old file or the new one.
    """
    from safetensors.numpy import save as to_bytes

    path = Path(path)
    arrays = {k: np.asarray(v.array if hasattr(v, "_ctx") else v, order="C")
              for k, v in arrays.items()}
    text = json.dumps(meta, allow_nan=False)
    header = {"format": kind, "version": str(FORMAT_VERSION), "sha256": _digest(arrays, text),
              "json": text}
    atomic_write(path, to_bytes(arrays, metadata=header))
    return path


def read_file(path, kind) -> tuple[dict, dict]:
    """``(arrays, meta)`` from a file written by :func:`write_file`, checking everything first:
    the safetensors header (dtypes deepnum reads, sizes that fit the file), the format and
    version, the checksum over the arrays and the JSON, and the JSON's size and depth."""
    from safetensors import SafetensorError
    from safetensors.numpy import load as from_bytes

    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: is a directory, not a model file") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot be read ({error.strerror or error})") from None
    header = _parse_header(raw, path)
    found = header.get("format")
    if found not in kinds:
        what = f"a {str(found)[:40]} file" if found else "not a deepnum file"
        raise ModelFileError(f"{path}: {what}; expected a {' or '.join(kinds)} file")
    version = header.get("version")
    if version not in _READABLE_VERSIONS:
        raise ModelFileError(f"{path}: file format version {str(version)[:20]!r} is not "
                             f"supported (this deepnum reads versions "
                             f"{', '.join(_READABLE_VERSIONS)})")
    text = header.get("json", "{}")
    try:
        arrays = from_bytes(raw)
    except (SafetensorError, ValueError, OSError, KeyError, TypeError) as error:
        raise ModelFileError(f"{path}: corrupt safetensors data ({str(error)[:160]})") from None
    digest = _digest(arrays) if version == "1" else _digest(arrays, text)
    if digest != header.get("sha256"):
        raise ModelFileError(f"{path}: the contents do not match the file's checksum "
                             f"(the file is corrupt or was modified)")
    meta = parse(text, path, error=ModelFileError)
    if not isinstance(meta, dict):
        raise ModelFileError(f"{path}: corrupt metadata (not a JSON object)")
    return arrays, meta


def _parse_header(raw: bytes, path) -> dict:
    """The safetensors ``__metadata__`` dict, after checking every tensor entry of the header,
    with a clear error for anything that is not a safetensors file deepnum can read."""
    if len(raw) < 8:
        raise ModelFileError(f"{path}: truncated or empty file ({len(raw)} bytes)")
    (size,) = struct.unpack("<Q", raw[:8])
    if size > _MAX_HEADER or 8 + size > len(raw):
        raise ModelFileError(f"{path}: not a safetensors file, or truncated "
                             f"(header claims {size} bytes, file has {len(raw)})")
    try:
        header = parse(raw[8:8 + size].decode("utf-8"), path, ModelFileError, _MAX_HEADER, 4)
    except (ModelFileError, UnicodeDecodeError):
        raise ModelFileError(f"{path}: not a safetensors file (unreadable header)") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{path}: not a safetensors file (unreadable header)")
    meta = header.pop("__metadata__", None)
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise ModelFileError(f"{path}: a safetensors file without deepnum metadata; "
                             f"not written by deepnum")
    body = len(raw) - 8 - size
    for name, entry in header.items():
        _check_entry(name, entry, body, path)
    return meta


def _check_entry(name: str, entry, body: int, path) -> None:
    """One tensor of the header: a dtype deepnum reads, a shape whose bytes lie in the file."""
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        raise ModelFileError(f"{path}: tensor {name[:60]!r}: malformed header entry")
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if dtype not in _DTYPES:
        raise ModelFileError(f"{path}: tensor {name[:60]!r} has dtype {str(dtype)[:10]!r}, which "
                             f"deepnum does not read (it reads {', '.join(_DTYPES)})")
    if not (isinstance(shape, list) and all(type(s) is int and s >= 0 for s in shape)
            and isinstance(offsets, list) and len(offsets) == 2
            and all(type(o) is int and 0 <= o <= body for o in offsets)):
        raise ModelFileError(f"{path}: tensor {name[:60]!r}: malformed shape or offsets")
    nbytes = np.dtype(_DTYPES[dtype]).itemsize
    for s in shape:
        nbytes *= s
        if nbytes > body:  # checked as it grows: a shape like [2**40, 2**40] never overflows
            break
    if nbytes != offsets[1] - offsets[0]:
        raise ModelFileError(f"{path}: tensor {name[:60]!r}: its shape {shape[:8]} needs "
                             f"{nbytes:,} bytes, its offsets give {offsets[1] - offsets[0]:,}")


def _digest(arrays: dict, text: str | None = None) -> str:
    sha = hashlib.sha256()
    for key in sorted(arrays):
        a = np.asarray(arrays[key], order="C")  # ascontiguousarray would make 0-d arrays 1-d
        sha.update(f"{key}:{a.dtype.str}:{a.shape};".encode())
        sha.update(a.tobytes())
    if text is not None:
        sha.update(b"json:" + text.encode())
    return sha.hexdigest()


def atomic_write(path, data: bytes) -> None:
    """Replace ``path`` with ``data``: a crash at any moment leaves the old or the new file."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open directories
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
