"""PyTorch checkpoints (``torch.save(model.state_dict(), "model.pt")``) read without PyTorch and
without running anything the file says.

A ``.pt`` file is a zip archive: ``<name>/data.pkl`` (a pickle describing the dict and, for each
tensor, its storage key, dtype, offset, shape and strides) and ``<name>/data/<key>`` (the raw
bytes of each storage). Unpickling is a small program that can call any importable function, so
this reader runs the pickle through a restricted unpickler that knows only the names
``torch.load(weights_only=True)`` allows for tensors and containers (``OrderedDict``, the tensor
and parameter rebuilders, the typed storages, ``torch.Size``) and rebuilds them as NumPy arrays
itself; any other global (``os.system``, ``builtins.eval``...) is refused with an error naming
it, before anything is called. Sizes are checked before anything is allocated: the pickle, the
storages (which must lie in the file), every view's extent inside its storage, and the total
number of bytes produced.

>>> state = dn.load_torch_state_dict("lenet.pt")        # OrderedDict of name -> ndarray
>>> model.load_state_dict(state)
"""

from __future__ import annotations

import codecs
import io
import pickle
import struct
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

from deepnum.errors import ModelFileError

MAX_PICKLE_BYTES = 16 * 2**20  # the pickle holds names and shapes, not numbers (a
#                               ResNet-152 state dict's is about 100 KB)
MAX_ENTRIES = 1_000_000  # files in the archive
MAX_TENSORS = 1_000_000

# torch's typed storages and the NumPy dtype each holds (bfloat16 is widened to float32)
STORAGES = {"FloatStorage": np.float32, "DoubleStorage": np.float64, "HalfStorage": np.float16,
            "BFloat16Storage": "bfloat16", "LongStorage": np.int64, "IntStorage": np.int32,
            "ShortStorage": np.int16, "CharStorage": np.int8, "ByteStorage": np.uint8,
            "BoolStorage": np.bool_, "ComplexFloatStorage": np.complex64,
            "ComplexDoubleStorage": np.complex128}


class _StorageType:
    """What ``torch.FloatStorage`` (etc.) stands for inside the pickle: a dtype."""

    def __init__(self, name: str):
        self.name, self.dtype = name, STORAGES[name]


class _Storage:
    def __init__(self, array: np.ndarray, key: str):
        self.array, self.key = array, key


def read(path, max_bytes: int = 2**34):
    """Everything in the checkpoint at ``path``, with tensors as ndarrays, dicts as (ordered)
    dicts; raises :class:`ModelFileError` naming the file for anything else."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ModelFileError(f"{path}: {size:,} bytes, more than the limit of "
                                 f"{max_bytes:,}")
        with open(path, "rb") as f:
            magic = f.read(4)
            if magic[:2] != b"PK":
                raise ModelFileError(_not_zip(path, magic))
            f.seek(0)
            try:
                archive = zipfile.ZipFile(f)
            except (zipfile.BadZipFile, ValueError, OSError, EOFError) as error:
                raise ModelFileError(f"{path}: not a readable PyTorch checkpoint (bad zip: "
                                     f"{str(error)[:100]})") from None
            with archive:
                return _read_archive(archive, path, size)
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: is a directory, not a checkpoint") from None


def load_torch_state_dict(path, key: str | None = None) -> OrderedDict:
    """The state dict saved at ``path`` by ``torch.save(model.state_dict(), path)``: an
    OrderedDict of parameter name -> ndarray, ready for ``model.load_state_dict``. For a
    checkpoint dict such as ``{"model": state_dict, "epoch": 3}`` pass ``key="model"``.

    >>> model.load_state_dict(dn.load_torch_state_dict("model.pt"))
    """
    value = read(path)
    if key is not None:
        if not isinstance(value, dict) or key not in value:
            found = _names(value)
            raise ModelFileError(f"{path}: no entry {key!r} at the top level (found {found})")
        value = value[key]
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, np.ndarray) for k, v in value.items()):
        raise ModelFileError(f"{path}: not a state dict of name -> tensor (top-level entries "
                             f"{_names(value)}); pass key= to pick the state dict inside a "
                             f"checkpoint")
    return OrderedDict(value)


def _names(value) -> list:
    """The first string keys of a dict, for a message (other keys may nest without bound)."""
    return sorted(k[:40] for k in value if isinstance(k, str))[:10] \
        if isinstance(value, dict) else []


def _not_zip(path, magic: bytes) -> str:
    if magic[:2] == b"\x80\x02" or magic[:1] == b"\x80":
        return (f"{path}: a legacy (pre-1.6, non-zip) PyTorch file, which deepnum does not read; "
                f"re-save it with torch.save(...) from PyTorch 1.6 or later")
    return f"{path}: not a PyTorch checkpoint (a zip archive was expected)"


def _read_archive(archive: zipfile.ZipFile, path, file_size: int):
    infos = archive.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ModelFileError(f"{path}: {len(infos):,} entries in the archive, more than "
                             f"{MAX_ENTRIES:,}")
    pickles = [i for i in infos if i.filename.endswith("/data.pkl") and
               i.filename.count("/") == 1]
    if len(pickles) != 1:
        if any(i.filename.endswith("/constants.pkl") for i in infos):
            raise ModelFileError(f"{path}: a TorchScript archive (torch.jit.save), not a state "
                                 f"dict saved with torch.save")
        raise ModelFileError(f"{path}: no data.pkl in the archive: not a torch.save file")
    prefix = pickles[0].filename[:-len("data.pkl")]
    by_name = {i.filename: i for i in infos}
    if pickles[0].file_size > MAX_PICKLE_BYTES:
        raise ModelFileError(f"{path}: its pickle is {pickles[0].file_size:,} bytes, more than "
                             f"{MAX_PICKLE_BYTES:,}")
    order = "little"
    if prefix + "byteorder" in by_name:
        order = _member(archive, by_name[prefix + "byteorder"], path, 16).decode(
            "ascii", "replace")
        if order not in ("little", "big"):
            raise ModelFileError(f"{path}: unknown byte order {order[:16]!r}")
    data = _member(archive, pickles[0], path, MAX_PICKLE_BYTES)
    reader = _Reader(archive, by_name, prefix, order, path, file_size)
    try:
        return reader.run(data)
    except ModelFileError:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError, IndexError,
            AttributeError, struct.error, UnicodeDecodeError, OverflowError,
            MemoryError, RecursionError) as error:
        raise ModelFileError(f"{path}: corrupt checkpoint pickle ({type(error).__name__}: "
                             f"{str(error)[:120]})") from None


def _member(archive, info, path, limit: int) -> bytes:
    """The bytes of one archive member, refusing more than ``limit`` (checked as it is read,
    so a member whose header lies about its size cannot inflate past it)."""
    if info.file_size > limit:
        raise ModelFileError(f"{path}: archive member {info.filename[:80]!r} is "
                             f"{info.file_size:,} bytes, more than {limit:,}")
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
            RuntimeError) as error:
        raise ModelFileError(f"{path}: archive member {info.filename[:80]!r} cannot be read "
                             f"({str(error)[:100]})") from None
    except Exception as error:  # zlib.error and friends from a damaged compressed member
        raise ModelFileError(f"{path}: archive member {info.filename[:80]!r} is damaged "
                             f"({type(error).__name__})") from None
    if len(data) > limit:
        raise ModelFileError(f"{path}: archive member {info.filename[:80]!r} is larger than "
                             f"{limit:,} bytes")
    return data


class _Reader:
    """Rebuilds the pickle's objects from the allowed names only."""

    def __init__(self, archive, by_name, prefix, order, path, file_size):
        self.archive, self.by_name, self.prefix = archive, by_name, prefix
        self.order, self.path = order, path
        self.storages: dict[str, _Storage] = {}
        self.storage_bytes = 0
        self.budget = 4 * file_size + 2**20  # bytes of tensors produced: views may overlap
        self.tensors = 0

    def run(self, data: bytes):
        unpickler = _RestrictedUnpickler(io.BytesIO(data), self)
        return unpickler.load()

    # ------------------------------------------------------------------ the allowed names
    def find_class(self, module: str, name: str):
        allowed = {
            ("collections", "OrderedDict"): OrderedDict,
            ("torch._utils", "_rebuild_tensor_v2"): self.rebuild_tensor,
            ("torch._utils", "_rebuild_tensor"): self.rebuild_tensor,
            ("torch._utils", "_rebuild_parameter"): self.rebuild_parameter,
            ("torch._utils", "_rebuild_parameter_with_state"): self.rebuild_parameter,
            ("torch", "Size"): _size,
            ("_codecs", "encode"): _encode,
        }
        found = allowed.get((module, name))
        if found is not None:
            return found
        if module == "torch" and name in STORAGES:
            return _StorageType(name)
        raise ModelFileError(f"{self.path}: the checkpoint's pickle asks for the global "
                             f"'{module}.{name}', which is not a tensor or a plain container "
                             f"(the set torch.load(weights_only=True) allows); refusing it "
                             f"(nothing in the file was run)")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise ModelFileError(f"{self.path}: unknown persistent record "
                                 f"{str(pid)[:80]!r} in the checkpoint")
        _, kind, key, _location, numel = pid
        if not isinstance(kind, _StorageType) or not isinstance(key, str) or type(numel) is not int:
            raise ModelFileError(f"{self.path}: malformed storage record {str(pid)[:80]!r}")
        if key in self.storages:
            return self.storages[key]
        info = self.by_name.get(f"{self.prefix}data/{key}")
        if info is None:
            raise ModelFileError(f"{self.path}: storage {key[:40]!r} is missing from the archive")
        itemsize = 2 if kind.dtype == "bfloat16" else np.dtype(kind.dtype).itemsize
        if numel < 0 or numel * itemsize != info.file_size:
            raise ModelFileError(f"{self.path}: storage {key[:40]!r} should hold {numel} "
                                 f"{kind.name} values but has {info.file_size:,} bytes")
        raw = _member(self.archive, info, self.path, info.file_size)
        self.storage_bytes += len(raw)
        self.storages[key] = _Storage(self._array(raw, kind), key)
        return self.storages[key]

    def _array(self, raw: bytes, kind: _StorageType) -> np.ndarray:
        end = "<" if self.order == "little" else ">"
        if kind.dtype == "bfloat16":  # the top half of a float32: widen exactly
            bits = np.frombuffer(raw, dtype=end + "u2").astype(np.uint32) << 16
            return bits.view(np.float32)
        dtype = np.dtype(kind.dtype).newbyteorder(end) if np.dtype(kind.dtype).itemsize > 1 \
            else np.dtype(kind.dtype)
        return np.frombuffer(raw, dtype=dtype).astype(np.dtype(kind.dtype).newbyteorder("="))

    # ------------------------------------------------------------------ rebuilders
    def rebuild_tensor(self, storage, offset, size, stride, *rest):
        if not isinstance(storage, _Storage):
            raise ModelFileError(f"{self.path}: a tensor without a storage in the checkpoint")
        size, stride = _ints(size, self.path, "size"), _ints(stride, self.path, "stride")
        if type(offset) is not int or offset < 0 or len(size) != len(stride) or len(size) > 64:
            raise ModelFileError(f"{self.path}: malformed tensor of size {size[:8]}")
        numel = 1
        for s in size:
            numel *= s
        flat = storage.array
        if numel:
            reach = offset + sum((n - 1) * abs(s) for n, s in zip(size, stride))
            if any(s < 0 for s in stride) or reach >= flat.size:
                raise ModelFileError(f"{self.path}: a tensor of size {list(size)} and stride "
                                     f"{list(stride)} reaches past its storage "
                                     f"{storage.key[:40]!r} of {flat.size} values")
        self.tensors += 1
        self.budget -= numel * flat.itemsize
        if self.tensors > MAX_TENSORS or self.budget < 0:
            raise ModelFileError(f"{self.path}: the checkpoint's tensors add up to far more than "
                                 f"its storages (overlapping views); refusing to build them")
        if not numel:
            return np.zeros(size, dtype=flat.dtype)
        view = np.lib.stride_tricks.as_strided(
            flat[offset:], shape=size, strides=[s * flat.itemsize for s in stride],
            writeable=False)
        return np.array(view, copy=True)

    def rebuild_parameter(self, data, requires_grad=None, backward_hooks=None, *state):
        if not isinstance(data, np.ndarray):
            raise ModelFileError(f"{self.path}: a parameter without a tensor in the checkpoint")
        return data


def _ints(value, path, what) -> tuple:
    if not isinstance(value, tuple) or not all(type(v) is int and v >= 0 for v in value):
        raise ModelFileError(f"{path}: malformed tensor {what} {str(value)[:60]}")
    return value


def _size(*args):
    return tuple(args[0]) if args else ()


def _encode(text, encoding="latin1"):
    """``_codecs.encode``, which protocol-2 pickles use for bytes: strings only, latin-1."""
    if not isinstance(text, str) or encoding != "latin1":
        raise ModelFileError("a malformed bytes record in the checkpoint")
    return codecs.encode(text, "latin1")


class _RestrictedUnpickler(pickle._Unpickler):  # the Python one: its BUILD can be restricted
    """find_class and persistent_load go to the reader; BUILD (which would set attributes or
    call ``__setstate__`` on the object below it) is allowed only on an OrderedDict, whose
    state dict's ``_metadata`` (PyTorch's layer versions) is dropped."""

    def __init__(self, file, reader: _Reader):
        super().__init__(file)
        self.reader = reader
        self.dispatch = dict(pickle._Unpickler.dispatch)
        self.dispatch[pickle.BUILD[0]] = _RestrictedUnpickler.load_build

    def find_class(self, module, name):
        return self.reader.find_class(str(module), str(name))

    def persistent_load(self, pid):
        return self.reader.persistent_load(pid)

    def load_build(self):
        state = self.stack.pop()
        target = self.stack[-1]
        if not isinstance(target, OrderedDict) or not isinstance(state, (dict, type(None))):
            raise ModelFileError(f"{self.reader.path}: the checkpoint's pickle sets the state of "
                                 f"a {type(target).__name__}, which a state dict never does")
