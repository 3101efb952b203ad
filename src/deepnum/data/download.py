"""Download a file from a list of mirrors and verify its size and MD5 before keeping it.

The bytes stream into a temporary file beside the destination and are renamed into place only after
the size and checksum match, so an interrupted or tampered download never leaves a file that a later
run would trust. Tests replace :data:`urlopen` with a function serving local files; nothing here is
special-cased for them.

>>> fetch(["https://example.org/a.gz"], Path("~/.cache/deepnum/x/a.gz"), size=4542, md5="ec29...")
>>> # -> the path, or DataError listing each mirror and why it failed
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from deepnum.errors import DataError

# Module-level so tests (and users behind a proxy) can swap in their own opener.
urlopen = urllib.request.urlopen

_CHUNK = 1 << 16


def fetch(urls: Sequence[str], dest: Path, size: int | None, md5: str | None) -> Path:
    """Download the first of ``urls`` that works to ``dest``; verify ``size`` and ``md5``.

    >>> fetch([MIRROR + "t10k-labels-idx1-ubyte.gz"], cache / "t10k-labels-idx1-ubyte.gz",
    ...       size=4542, md5="ec29112dd5afa0611ce80d1b7f02629c")
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        try:
            _fetch_one(url, dest, size, md5)
            return dest
        except (OSError, ValueError, DataError) as error:  # urllib errors are OSErrors
            failures.append(f"  {url}: {error}")
    raise DataError(f"could not download {dest.name}:\n" + "\n".join(failures))


def _fetch_one(url: str, dest: Path, size: int | None, md5: str | None) -> None:
    """Stream one URL into a temporary file, check it, and rename it to ``dest``."""
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        digest, received = hashlib.md5(), 0
        with os.fdopen(fd, "wb") as out, urlopen(url, timeout=60) as response:
            while chunk := response.read(_CHUNK):
                received += len(chunk)
                # Stop early rather than fill the disk when a server sends something else.
                if size is not None and received > size:
                    raise DataError(f"more than the expected {size} bytes")
                digest.update(chunk)
                out.write(chunk)
        if size is not None and received != size:
            raise DataError(f"got {received} bytes, expected {size}")
        if md5 is not None and digest.hexdigest() != md5:
            raise DataError(f"MD5 {digest.hexdigest()} does not match the expected {md5}")
        os.replace(tmp, dest)
    finally:
        Path(tmp).unlink(missing_ok=True)
