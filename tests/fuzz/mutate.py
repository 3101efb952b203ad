"""Mutations of deepnum's files for the fuzz tests, drawn by hypothesis.

Two kinds of mutant:

* raw: bytes flipped, inserted, deleted or the file truncated, anywhere. The checksum and the
  parsers must catch these.
* resealed: the safetensors file is taken apart (header, tensors, deepnum's JSON), one tensor or
  one JSON value is changed, and the file is written back *with a correct checksum*, as an
  attacker who knows the format would. These get past the checksum and test what lies behind it
  (schemas, shape checks, allocation budgets, the compiled kernels' guards).
"""

from __future__ import annotations

import hashlib
import json
import struct

import numpy as np
from hypothesis import strategies as st

# safetensors dtype names, including those deepnum refuses (BF16, F8...)
DTYPES = {"F16": 2, "F32": 4, "F64": 8, "I8": 1, "I16": 2, "I32": 4, "I64": 8, "U8": 1,
          "BOOL": 1, "BF16": 2, "F8_E4M3": 1, "U16": 2, "U32": 4, "U64": 8}
NUMPY = {"F16": np.float16, "F32": np.float32, "F64": np.float64, "I8": np.int8,
         "I16": np.int16, "I32": np.int32, "I64": np.int64, "U8": np.uint8, "BOOL": np.bool_,
         "U16": np.uint16, "U32": np.uint32, "U64": np.uint64}

# JSON values an attacker would try where a number, list or object belongs
ODD_VALUES = st.one_of(
    st.sampled_from([None, True, False, 0, -1, 1, 2, 3, 255, 256, 2**31, 2**63, -2**63,
                     2**64 + 1, 10**30, 1e30, -1e30, 1e-300, 0.5, "", "x", "nan", "PCG64",
                     "float32", [], {}, [0], [[]], {"__array__": "0:"}, {"__float__": "nan"},
                     {"__items__": []}, {"__float__": "1e5"}, [1e30, -1], 30_000_000]),
    st.integers(), st.floats(allow_nan=False), st.text(max_size=8),
    st.recursive(st.integers(-3, 3), lambda inner: st.lists(inner, max_size=3), max_leaves=6))


def split(raw: bytes):
    """(tensor entries {name: {dtype, shape, data}}, metadata dict) of a safetensors file."""
    (size,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + size])
    meta = header.pop("__metadata__")
    body = raw[8 + size:]
    tensors = {}
    for name, entry in header.items():
        start, end = entry["data_offsets"]
        tensors[name] = {"dtype": entry["dtype"], "shape": list(entry["shape"]),
                         "data": body[start:end]}
    return tensors, meta


def join(tensors: dict, meta: dict) -> bytes:
    """A safetensors file from entries as :func:`split` returns them (shapes and dtypes are
    written as given, even when they do not match the data: that is the point)."""
    header, body, offset = {}, b"", 0
    for name in sorted(tensors):
        entry = tensors[name]
        data = entry["data"]
        header[name] = {"dtype": entry["dtype"], "shape": entry["shape"],
                        "data_offsets": [offset, offset + len(data)]}
        body += data
        offset += len(data)
    header["__metadata__"] = meta
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + body


def reseal(tensors: dict, meta: dict) -> bytes:
    """Write the file back with the checksum deepnum would compute for these arrays and JSON
    (tensors whose dtype NumPy cannot hold keep the old checksum: the file is refused anyway)."""
    sha = hashlib.sha256()
    try:
        for name in sorted(tensors):
            entry = tensors[name]
            dtype = np.dtype(NUMPY[entry["dtype"]])
            a = np.frombuffer(entry["data"], dtype=dtype).reshape(entry["shape"])
            sha.update(f"{name}:{a.dtype.str}:{a.shape};".encode())
            sha.update(a.tobytes())
        if meta.get("version") == "2":
            sha.update(b"json:" + meta.get("json", "").encode())
        meta = {**meta, "sha256": sha.hexdigest()}
    except (KeyError, ValueError, TypeError):
        pass
    return join(tensors, meta)


@st.composite
def raw_mutant(draw, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "header_size"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if how == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif how == "delete":
            del data[at:at + draw(st.integers(1, 16))]
        elif how == "truncate":
            del data[at:]
        elif len(data) >= 8:
            data[:8] = struct.pack("<Q", draw(st.sampled_from([0, 1, 7, 2**40, 2**63, at])))
    return bytes(data)


@st.composite
def json_mutant(draw, value):
    """``value`` (parsed JSON) with one node replaced, removed or duplicated."""
    paths = list(_paths(value, ()))
    path = draw(st.sampled_from(paths))
    how = draw(st.sampled_from(["replace", "replace", "delete", "wrap", "deep"]))
    if how == "replace" or not path:
        new = draw(ODD_VALUES)
    elif how == "wrap":
        new = [_get(value, path)]
    elif how == "deep":  # written as text by deepen(): json.dumps itself recurses
        new = f"{DEEP}{draw(st.sampled_from([70, 1000, 20_000]))}"
    else:
        new = _DELETE
    return _set(value, path, new)


@st.composite
def tensor_mutant(draw, tensors: dict) -> dict:
    tensors = {k: dict(v) for k, v in tensors.items()}
    name = draw(st.sampled_from(sorted(tensors)))
    entry = tensors[name]
    how = draw(st.sampled_from(["dtype_same_bytes", "dtype", "shape", "values", "drop",
                                "rename", "extra"]))
    width = DTYPES[entry["dtype"]]
    if how == "dtype_same_bytes":  # e.g. F32 (n) -> F64 (n/2): the heap overflow
        new = draw(st.sampled_from(sorted(DTYPES)))
        elements = len(entry["data"]) // DTYPES[new]
        entry["dtype"], entry["shape"] = new, [elements]
        entry["data"] = entry["data"][:elements * DTYPES[new]]
    elif how == "dtype":
        entry["dtype"] = draw(st.sampled_from(sorted(DTYPES)))
    elif how == "shape":
        n = len(entry["data"]) // width
        choice = draw(st.sampled_from(["flat", "transpose", "extra_dim", "wrong", "huge"]))
        if choice == "flat":
            entry["shape"] = [n]
        elif choice == "transpose":
            entry["shape"] = list(reversed(entry["shape"]))
        elif choice == "extra_dim":
            entry["shape"] = entry["shape"] + [1]
        elif choice == "wrong":
            entry["shape"] = [max(n - 1, 0)]
        else:
            entry["shape"] = [2**40, 2**40]
    elif how == "values" and entry["dtype"] in ("F32", "F64"):
        a = np.frombuffer(entry["data"], dtype=NUMPY[entry["dtype"]]).copy()
        if a.size:
            a[draw(st.integers(0, a.size - 1))] = draw(st.sampled_from(
                [np.nan, np.inf, -np.inf, 1e30, -1e30, 0.0]))
        entry["data"] = a.tobytes()
    elif how == "drop":
        del tensors[name]
    elif how == "rename":
        tensors[name + draw(st.sampled_from(["x", "/0", ".weight"]))] = tensors.pop(name)
    elif how == "extra":
        tensors[draw(st.sampled_from(["0:extra", name + "2", "9:model/a"]))] = {
            "dtype": "F32", "shape": [2], "data": b"\0" * 8}
    return tensors


@st.composite
def resealed_mutant(draw, raw: bytes) -> bytes:
    """A file that passes the checksum but has one tensor or one JSON value changed."""
    tensors, meta = split(raw)
    if draw(st.booleans()) and tensors:
        tensors = draw(tensor_mutant(tensors))
    else:
        document = json.loads(meta["json"])
        document = draw(json_mutant(document))
        meta = {**meta, "json": deepen(json.dumps(document))}
    return reseal(tensors, meta)


def mutant(raw: bytes):
    """Either kind, resealed mutants three times as often (they reach deeper)."""
    return st.one_of(raw_mutant(raw), resealed_mutant(raw), resealed_mutant(raw),
                     resealed_mutant(raw))


_DELETE = object()
DEEP = "deep-nesting:"


def deepen(text: str) -> str:
    """Replace a ``"deep-nesting:N"`` marker by N nested lists."""
    marker = text.find(f'"{DEEP}')
    if marker < 0:
        return text
    end = text.index('"', marker + 1)
    depth = int(text[marker + 1 + len(DEEP):end])
    return text[:marker] + "[" * depth + "0" + "]" * depth + text[end + 1:]


def _paths(value, path):
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, path + (i,))


def _get(value, path):
    for p in path:
        value = value[p]
    return value


def _set(value, path, new):
    """A copy of ``value`` with the node at ``path`` replaced by ``new`` (or deleted)."""
    if not path:
        return new if new is not _DELETE else None
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if rest:
            copy[head] = _set(value[head], rest, new)
        elif new is _DELETE:
            del copy[head]
        else:
            copy[head] = new
        return copy
    copy = list(value)
    if rest:
        copy[head] = _set(value[head], rest, new)
    elif new is _DELETE:
        del copy[head]
    else:
        copy[head] = new
    return copy
