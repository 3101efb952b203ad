"""Read and write IDX files, the format MNIST and Fashion-MNIST are distributed in.

An IDX file is a 4-byte header -- two zero bytes, a dtype code, the number of dimensions -- then one
big-endian uint32 size per dimension, then the values, big-endian, in C order
(http://yann.lecun.com/exdb/mnist/). The files are usually gzip-compressed; we tell the two apart by
their first bytes, not by their name, because the name is often wrong (browsers unpack ``.gz`` files
and keep the suffix).

Everything is validated before an array is returned: a truncated download, an HTML error page saved
under the right name, or a labels file passed where images are expected all raise :class:`DataError`
naming the file and the problem, never a garbage array.

>>> write_idx("/tmp/a.idx.gz", np.arange(6, dtype=np.uint8).reshape(2, 3))
>>> read_idx("/tmp/a.idx.gz").shape   # (2, 3)
"""

from __future__ import annotations

import gzip
import os
import sys
import tempfile
import zlib
from math import prod
from pathlib import Path

import numpy as np

from deepnum.errors import DataError

# dtype code -> big-endian NumPy dtype, from the IDX specification.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_CODE_OF = {dtype.newbyteorder("="): code for code, dtype in IDX_DTYPES.items()}

_GZIP_MAGIC = b"\x1f\x8b"
MAX_BYTES = 2**31  # default bound on an IDX file's data (MNIST's largest file holds 47 MB)
_CHUNK = 1 << 20  # inflate a megabyte at a time
MAX_DIMENSIONS = 32  # NumPy 1's limit (NumPy 2 allows 64)


def read_idx(
    path: str | os.PathLike,
    expected_shape: tuple[int | None, ...] | None = None,
    expected_ndim: int | None = None,
    *,
    max_bytes: int = MAX_BYTES,
) -> np.ndarray:
    """Read an IDX file (gzip-compressed or raw) into a native-endian array.

    ``expected_shape`` may hold ``None`` for sizes that can be anything, e.g. ``(None, 28, 28)``;
    ``expected_ndim`` checks only the number of dimensions. Both exist so that loaders catch a
    mislabelled file (labels where images belong) with a clear message.

    The file is streamed: the header is read and checked first (against ``expected_shape``,
    against the file's size, against ``max_bytes`` -- 2 GiB by default -- and, for gzip data,
    against the most that deflate can inflate from a file this size), then exactly the declared
    bytes are inflated into the array, so a small gzip that would inflate to gigabytes is refused
    having inflated no more than its header promised.

    >>> images = read_idx("t10k-images-idx3-ubyte.gz", expected_shape=(None, 28, 28))
    >>> images.shape, images.dtype   # ((10000, 28, 28), dtype('uint8'))
    """
    path = Path(path)
    try:
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            compressed = file.read(2) == _GZIP_MAGIC
            file.seek(0)
            if not compressed:
                return _read_stream(path, file, size, max_bytes, expected_shape, expected_ndim)
            with gzip.GzipFile(fileobj=file) as stream:
                return _read_stream(path, stream, None, min(max_bytes, _inflated_bound(size)),
                                    expected_shape, expected_ndim)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not an IDX file") from None
    except (OSError, EOFError, zlib.error) as error:  # gzip.BadGzipFile is an OSError
        what = "corrupt gzip data" if compressed else "cannot read"
        raise DataError(f"{path}: {what} ({error})") from None


def _inflated_bound(compressed_size: int) -> int:
    """The most bytes deflate can produce from ``compressed_size`` bytes (it compresses at most
    1032:1), plus room for small files' headers."""
    return 1032 * compressed_size + 4096


def _read_stream(path, stream, size, max_bytes, expected_shape, expected_ndim) -> np.ndarray:
    """The array in ``stream`` (a raw file of ``size`` bytes, or inflating gzip when ``size`` is
    None), allocating only what the header declares, and only once that is known to fit."""
    raw = _read_up_to(stream, 4)
    if len(raw) < 4:
        raise DataError(f"{path}: {len(raw)} bytes is too short for an IDX header (needs 4)")
    if raw[0] != 0 or raw[1] != 0:
        raise DataError(
            f"{path}: bad magic number {raw[:4].hex(' ')}: an IDX file starts with two zero bytes"
        )
    code, ndim = raw[2], raw[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataError(f"{path}: unknown IDX dtype code 0x{code:02X} (known: {known})")
    if ndim == 0:
        raise DataError(f"{path}: the IDX header declares 0 dimensions")
    if ndim > MAX_DIMENSIONS:  # the format allows 255; NumPy arrays have at most 32 (or 64)
        raise DataError(f"{path}: the IDX header declares {ndim} dimensions; deepnum reads at "
                        f"most {MAX_DIMENSIONS}")
    header_size = 4 + 4 * ndim
    raw += _read_up_to(stream, header_size - 4)
    if len(raw) < header_size:
        raise DataError(
            f"{path}: the header declares {ndim} dimensions, which needs {header_size} header "
            f"bytes, but the file has only {len(raw)} bytes (wrong dimension count or truncated)"
        )
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    _check_expected(path, shape, expected_shape, expected_ndim)

    dtype = IDX_DTYPES[code]
    # Python ints: a corrupt header can declare sizes whose product overflows int64.
    declared = prod(shape) * dtype.itemsize
    if size is not None:  # a raw file: its size says it all before anything is allocated
        actual = size - header_size
        if actual < declared:
            _truncated(path, shape, declared, actual)
        if actual > declared:
            raise DataError(
                f"{path}: oversized: the header declares shape {shape} ({declared} data bytes) "
                f"but {actual} data bytes follow ({actual - declared} extra)"
            )
    if declared > max_bytes:
        limit = ("the limit of read_idx's max_bytes" if size is not None else
                 "what this gzip file can inflate to, or the limit of read_idx's max_bytes")
        raise DataError(f"{path}: the header declares shape {shape}, {declared:,} data bytes: "
                        f"more than {limit} ({max_bytes:,}); refusing to read it")
    if prod(max(size, 1) for size in shape) * dtype.itemsize >= 2**63:
        # no data (a size is 0), but NumPy still refuses a shape whose other sizes overflow
        raise DataError(f"{path}: the header declares shape {shape}, which NumPy cannot hold")
    array = np.empty(shape, dtype=dtype.newbyteorder("="))
    view = memoryview(array.reshape(-1).view(np.uint8))
    done = 0
    while done < declared:
        got = stream.readinto(view[done:done + _CHUNK])
        if not got:
            _truncated(path, shape, declared, done)
        done += got
    if stream.read(1):  # for gzip this also checks the last member's CRC and length
        raise DataError(f"{path}: oversized: the header declares shape {shape} ({declared} data "
                        f"bytes) but more data follow")
    if dtype.itemsize > 1 and sys.byteorder == "little":
        array.byteswap(inplace=True)  # IDX is big-endian; the array is native, as users expect
    return array


def _read_up_to(stream, n: int) -> bytes:
    """Up to ``n`` bytes (fewer only at the end of the stream)."""
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


def _truncated(path, shape, declared: int, actual: int):
    raise DataError(
        f"{path}: truncated: the header declares shape {shape} ({declared} data bytes) "
        f"but only {actual} data bytes follow"
    )


def write_idx(path: str | os.PathLike, array: np.ndarray) -> None:
    """Write ``array`` as an IDX file, gzip-compressed when the name ends in ``.gz``.

    Supported dtypes are those IDX has: uint8, int8, int16, int32, float32, float64. The file is
    written to a temporary name and renamed, so an interrupted write never leaves a half file.

    >>> write_idx("labels-idx1-ubyte.gz", np.array([3, 1, 4], dtype=np.uint8))
    >>> read_idx("labels-idx1-ubyte.gz")   # array([3, 1, 4], dtype=uint8)
    """
    path = Path(path)
    array = np.asarray(array)
    code = _CODE_OF.get(array.dtype.newbyteorder("="))
    if code is None:
        raise DataError(
            f"{path}: IDX cannot store dtype {array.dtype}; supported: uint8, int8, int16, int32, "
            "float32, float64 (cast first, e.g. labels.astype(np.int32))"
        )
    if array.ndim == 0 or array.ndim > 255:
        raise DataError(f"{path}: IDX stores 1 to 255 dimensions, got a {array.ndim}-D array")
    if any(size >= 2**32 for size in array.shape):
        raise DataError(f"{path}: IDX sizes are uint32; shape {array.shape} does not fit")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    body = np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()
    data = header + body
    if path.name.endswith(".gz"):
        # mtime=0 keeps the output byte-for-byte reproducible.
        data = gzip.compress(data, mtime=0)
    _atomic_write(path, data)


def _check_expected(path, shape, expected_shape, expected_ndim) -> None:
    """Reject a file whose shape does not match what the caller expects."""
    if expected_shape is not None:
        expected_ndim = len(expected_shape)
    if expected_ndim is not None and len(shape) != expected_ndim:
        wanted = f"shape {_show(expected_shape)}" if expected_shape else f"{expected_ndim}-D data"
        raise DataError(
            f"{path}: holds {len(shape)}-D data of shape {shape} but {wanted} was expected; "
            "the file looks mislabelled (e.g. a labels file where an images file belongs)"
        )
    if expected_shape is not None:
        for got, want in zip(shape, expected_shape):
            if want is not None and got != want:
                raise DataError(
                    f"{path}: holds data of shape {shape} but shape {_show(expected_shape)} "
                    "was expected; the file looks mislabelled or comes from another data set"
                )


def _show(shape) -> str:
    """A shape with ``None`` written as ``N``, e.g. ``(N, 28, 28)``."""
    return "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
