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

import functools
import hashlib
import json
import struct
import zlib

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


# ----------------------------------------------------------------------------- PNG, gzip, IDX
def png_chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, type, body and the CRC a decoder checks."""
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


def png(width: int, height: int, pixels: bytes | None = None, color_type: int = 0,
        bit_depth: int = 8, extra: tuple[bytes, ...] = ()) -> bytes:
    """A PNG file declaring ``width`` x ``height`` (whatever its pixel data holds: a 20000x20000
    header over a few bytes of data is how a decompression bomb looks before decoding)."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    if pixels is None:
        pixels = b"".join(b"\0" + bytes(width) for _ in range(min(height, 64)))
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + b"".join(extra)
            + png_chunk(b"IDAT", zlib.compress(pixels)) + png_chunk(b"IEND", b""))


def png_chunks(raw: bytes) -> list[tuple[bytes, bytes]]:
    """[(type, body)] of a well-formed PNG file."""
    chunks, at = [], 8
    while at + 8 <= len(raw):
        (length,) = struct.unpack(">I", raw[at:at + 4])
        chunks.append((raw[at + 4:at + 8], raw[at + 8:at + 8 + length]))
        at += 12 + length
    return chunks


@functools.lru_cache(maxsize=16)
def deflated_zeros(size: int, wbits: int = 15) -> bytes:
    """``size`` zero bytes, zlib-compressed (wbits 15) or gzipped (31), in a fraction of the
    time compressing them would take: one megabyte of zeros is deflated once, ending on a full
    flush (so it refers to nothing before it), and repeated. A 1 GiB bomb is 1 MB."""
    block = bytes(1 << 20)
    first = zlib.compressobj(9, zlib.DEFLATED, -15)
    unit = first.compress(block) + first.flush(zlib.Z_FULL_FLUSH)
    last = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = unit * (size >> 20) + last.compress(bytes(size & ((1 << 20) - 1))) + last.flush()
    check = zlib.crc32(b"") if wbits == 31 else zlib.adler32(b"")
    step = zlib.crc32 if wbits == 31 else zlib.adler32
    for _ in range(size >> 20):
        check = step(block, check)
    check = step(bytes(size & ((1 << 20) - 1)), check)
    if wbits == 31:
        return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff" + body
                + struct.pack("<II", check, size & 0xFFFFFFFF))
    return b"\x78\xda" + body + struct.pack(">I", check)


@st.composite
def png_mutant(draw, raw: bytes) -> bytes:
    """A PNG with one chunk changed and its CRC recomputed (past the CRC check, into the
    decoder): IHDR fields, a chunk's body, a chunk dropped, duplicated or added."""

    chunks = png_chunks(raw)
    i = draw(st.integers(0, len(chunks) - 1))
    kind, body = chunks[i]
    how = draw(st.sampled_from(["ihdr", "ihdr", "body", "drop", "duplicate", "add", "idat"]))
    if how == "ihdr":
        fields = list(struct.unpack(">IIBBBBB", chunks[0][1]))
        field = draw(st.integers(0, 6))
        fields[field] = draw(st.sampled_from([0, 1, 2, 3, 4, 6, 8, 16, 255, 20000, 2**31 - 1])
                             if field < 2 else st.integers(0, 255))
        chunks[0] = (b"IHDR", struct.pack(">IIBBBBB", *fields))
    elif how == "body":
        chunks[i] = (kind, draw(raw_mutant(body)) if body else draw(st.binary(max_size=16)))
    elif how == "drop":
        del chunks[i]
    elif how == "duplicate":
        chunks.insert(i, chunks[i])
    elif how == "add":
        new_kind = draw(st.sampled_from([b"tEXt", b"zTXt", b"iCCP", b"PLTE", b"tRNS", b"gAMA",
                                         b"pHYs", b"acTL", b"fcTL", b"eXIf", b"iTXt"]))
        if new_kind in (b"zTXt", b"iCCP"):  # compressed payloads, some of them bombs
            size = draw(st.sampled_from([0, 10, 1 << 20, 16 << 20]))
            new_body = b"key\0\0" + deflated_zeros(size)
        else:
            new_body = draw(st.binary(max_size=64))
        chunks.insert(draw(st.integers(1, len(chunks))), (new_kind, new_body))
    else:  # IDAT holding a zlib bomb or garbage
        size = draw(st.sampled_from([0, 1, 100, 1 << 20, 64 << 20]))
        chunks = [(k, deflated_zeros(size) if k == b"IDAT" else b) for k, b in chunks]
    return b"\x89PNG\r\n\x1a\n" + b"".join(png_chunk(k, b) for k, b in chunks)


# ----------------------------------------------------------------------------- CSV
# Cells an attacker or a careless export would put in a table
CSV_CELLS = st.one_of(
    st.sampled_from(["1e30", "-1e30", "1e18", "1e19", "30000000", "30000000.0", "1e309", "-1e309",
                     "nan", "NaN", "inf", "-inf", "Infinity", "", " ", '"', '""', '"a,b"', "0x10",
                     "1_000", "\u0663", "\uff11", "1e-400", "\ufeff1", "a\nb", '"a\nb"', "\x00",
                     "-0", "+1", "1.", ".5", "1e", "e5", "--1", "9" * 41, "9" * 5000,
                     "-9223372036854775809", "18446744073709551616", "setosa", "1,2", "x" * 200_000,
                     "-1", "0", "2", "10000", "9999", "-10000"]),
    st.integers(-2**70, 2**70).map(str), st.floats().map(repr), st.text(max_size=6))


def csv_table(raw: bytes) -> list[list[str]]:
    return [line.split(",") for line in raw.decode().splitlines()]


@st.composite
def csv_mutant(draw, raw: bytes) -> bytes:
    """A CSV with cells, rows or the layout changed: odd numbers and labels, ragged rows,
    many classes, long lines, quoting, other line endings, a BOM, many copies of the rows."""
    rows = csv_table(raw)
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["cell", "cell", "label", "ragged", "drop", "classes",
                                    "wide", "copies", "header"]))
        r = draw(st.integers(0, len(rows) - 1)) if rows else 0
        if how == "cell" and rows and rows[r]:
            rows[r][draw(st.integers(0, len(rows[r]) - 1))] = draw(CSV_CELLS)
        elif how == "label" and rows and rows[r]:
            rows[r][-1] = draw(CSV_CELLS)
        elif how == "ragged" and rows:
            rows[r] = rows[r][:-1] if draw(st.booleans()) else rows[r] + ["1"]
        elif how == "drop" and rows:
            del rows[r]
        elif how == "classes":  # every row its own label: integers or names
            names = draw(st.sampled_from(["{}", "c{}", "{}.5", "-{}"]))
            rows = [row[:-1] + [names.format(i)] for i, row in enumerate(rows)]
        elif how == "wide" and rows:
            rows[r] = rows[r] + ["1"] * draw(st.sampled_from([10, 300, 600_000]))
        elif how == "copies" and sum(map(len, map(",".join, rows))) < 2000:
            # files up to 2 MB; copies, not the same list 1000 times (a later cell edit would
            # change them all)
            rows = [list(row) for row in rows * draw(st.sampled_from([2, 100, 1000]))]
        elif how == "header":
            rows.insert(0, [draw(st.text(max_size=5)) for _ in (rows[0] if rows else [0])])
    end = draw(st.sampled_from(["\n", "\r\n", "\r", "\n\n"]))
    text = end.join(",".join(row) for row in rows) + draw(st.sampled_from(["", end]))
    data = text.encode("utf-8", errors="surrogatepass")
    if draw(st.booleans()):
        data = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe"])) + data
    return data


# ----------------------------------------------------------------------------- IDX
def idx_bytes(array: np.ndarray, code: int = 0x08) -> bytes:
    """An IDX file's bytes (dtype code ``code``; the array's bytes written big-endian)."""
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@st.composite
def idx_mutant(draw, raw: bytes) -> bytes:
    """An IDX file (uncompressed) with its header edited: dtype code, dimension count, one
    size (to 0, +-1, 2**31, 2**32 - 1...), or data cut or added."""
    data = bytearray(raw)
    how = draw(st.sampled_from(["code", "ndim", "size", "size", "cut", "add"]))
    if how == "code":
        data[2] = draw(st.sampled_from([0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0xFF]))
    elif how == "ndim":
        data[3] = draw(st.sampled_from([0, 1, 2, 3, 4, 255]))
    elif how == "size" and data[3]:
        i = draw(st.integers(0, data[3] - 1))
        old = int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big")
        new = draw(st.sampled_from([0, 1, old - 1, old + 1, old * 1000, 2**31, 2**32 - 1]))
        data[4 + 4 * i:8 + 4 * i] = max(new, 0).to_bytes(4, "big")
    elif how == "cut":
        del data[draw(st.integers(0, len(data))):]
    else:
        data += draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


@st.composite
def gzip_mutant(draw, raw: bytes) -> bytes:
    """``raw`` gzipped, then damaged: bytes flipped in the compressed stream, cut short, a
    trailer of garbage, split into several members, or the payload followed by a bomb of zeros
    (up to 1 GiB inflated from about 1 MB)."""
    how = draw(st.sampled_from(["raw", "flip", "cut", "trailer", "members", "bomb", "bomb"]))
    packed = gzip_bytes(raw)
    if how == "flip":
        return draw(raw_mutant(packed))
    if how == "cut":
        return packed[:draw(st.integers(0, len(packed)))]
    if how == "trailer":
        return packed + draw(st.binary(min_size=1, max_size=32))
    if how == "members":
        cut = draw(st.integers(0, len(raw)))
        return gzip_bytes(raw[:cut]) + gzip_bytes(raw[cut:])
    if how == "bomb":
        return packed + deflated_zeros(draw(st.sampled_from([1 << 20, 64 << 20, 1 << 30])), 31)
    return packed


def gzip_bytes(data: bytes) -> bytes:
    import gzip

    return gzip.compress(data, mtime=0)
