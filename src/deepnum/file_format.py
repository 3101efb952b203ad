"""deepnum's file format: a safetensors file whose ``__metadata__`` holds a JSON document, the
file's kind and format version, and a SHA-256 over the arrays and the JSON. Every file deepnum
writes (models, objects, weights, checkpoints) is one; reading checks everything (the header's
entries, the kind, the version, the checksum, the JSON's size and depth) before handing out
anything, and raises :class:`~deepnum.errors.ModelFileError` naming the file otherwise.

>>> write_file("w.safetensors", {"w": np.zeros(3)}, {"note": "hi"}, "deepnum.weights")
>>> arrays, meta = read_file("w.safetensors", "deepnum.weights")
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import tempfile
from pathlib import Path

import numpy as np

from deepnum.errors import ModelFileError
from deepnum.schema import parse

# Version 2's checksum covers the JSON metadata as well as the arrays; version 1 files (arrays
# only) are still read.
FORMAT_VERSION = 2
_READABLE_VERSIONS = ("1", "2")
_MAX_HEADER = 100 * 1024 * 1024  # a header beyond 100 MB is not one we wrote
# safetensors dtypes deepnum reads, as NumPy types (NumPy has no bfloat16 or float8)
_DTYPES = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I8": np.int8,
           "I16": np.int16, "I32": np.int32, "I64": np.int64, "U8": np.uint8, "U16": np.uint16,
           "U32": np.uint32, "U64": np.uint64, "BOOL": np.bool_}


def to_bytes(arrays: dict, meta: dict, kind: str) -> bytes:
    """A safetensors file whose metadata holds ``meta`` as JSON, with its format, version and
    the checksum over the arrays and the JSON."""
    from safetensors.numpy import save as safetensors_bytes

    arrays = {k: np.asarray(v.array if hasattr(v, "_ctx") else v, order="C")
              for k, v in arrays.items()}
    text = json.dumps(meta, allow_nan=False)
    header = {"format": kind, "version": str(FORMAT_VERSION), "sha256": _digest(arrays, text),
              "json": text}
    return safetensors_bytes(arrays, metadata=header)


def write_file(path, arrays: dict, meta: dict, kind: str) -> Path:
    """Write :func:`to_bytes` to ``path`` atomically.

    The file is written to a temporary name in the same directory, flushed to disk, renamed over
    ``path`` and the directory synced, so a crash leaves either the old file or the new one.
    """
    path = Path(path)
    atomic_write(path, to_bytes(arrays, meta, kind))
    return path


def _read_bytes(path) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ModelFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ModelFileError(f"{path}: is a directory, not a model file") from None
    except OSError as error:
        raise ModelFileError(f"{path}: cannot be read ({error.strerror or error})") from None


def read_file(path, kind) -> tuple[dict, dict]:
    """``(arrays, meta)`` from a file written by :func:`write_file` (see :func:`read_bytes`)."""
    arrays, meta, _ = read_bytes(_read_bytes(path), path, kind)
    return arrays, meta


def read_bytes(raw: bytes, path, kind) -> tuple[dict, dict, str]:
    """``(arrays, meta, kind)`` from the bytes of a file written by :func:`to_bytes`, checking
    everything first: the safetensors header (dtypes deepnum reads, sizes that fit the file),
    the format (one of ``kind``) and version, the checksum over the arrays and the JSON, and the
    JSON's size and depth."""
    from safetensors import SafetensorError
    from safetensors.numpy import load as from_bytes

    kinds = (kind,) if isinstance(kind, str) else tuple(kind)
    if raw[:4] == b"PK\x03\x04" or raw[:2] == b"\x80\x02":
        raise ModelFileError(f"{path}: a PyTorch (pickle) file; deepnum never unpickles. In "
                             f"PyTorch, save the state dict with safetensors.torch.save_file, "
                             f"or load it there and pass it to model.load_state_dict")
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
    return arrays, meta, found


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
    """Replace ``path`` with ``data``: a crash at any moment leaves the old or the new file (and
    perhaps a temporary ``.NAME.xxxxxxxx.tmp`` beside it, which :func:`remove_stale_temporaries`
    clears). An OSError (disk full, read-only folder) names ``path``."""
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise _naming(error, path) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as error:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _naming(error, path) from None
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open directories
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _naming(error: OSError, path: Path) -> OSError:
    """The same error (same class and errno) about ``path``, not about a temporary name."""
    return type(error)(error.errno, error.strerror or str(error), str(path))


# tempfile.mkstemp's names: the prefix, 8 characters of its alphabet, the suffix
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp")


def remove_stale_temporaries(directory, names) -> list[Path]:
    """Delete the temporaries that :func:`atomic_write` leaves when a process is killed mid-write
    (``.NAME.xxxxxxxx.tmp``), for the file names ``names`` in ``directory`` only; nothing else
    there is touched. Call it when a run starts, before anything writes there; returns the
    paths removed."""
    directory, names = Path(directory), set(names)
    removed = []
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        match = _TEMPORARY.fullmatch(entry.name)
        if match and match["name"] in names and entry.is_file(follow_symlinks=False):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except FileNotFoundError:  # removed meanwhile
                pass
    return removed
