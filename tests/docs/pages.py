"""The code blocks of the documentation pages, as the docs tests run them.

A fenced block's language decides: ``python`` blocks of one page run in order in one namespace
(a page reads top to bottom, so a later block may use an earlier one's names); ``bash`` blocks
run with ``bash -euo pipefail``, with ``deepnum`` being this source tree's command. Other
languages (``text``, ``csv``, ``json``) are shown output or data, never code. ``pip install``
commands are not run (the test environment was installed with the extras the pages name); the
rest of their line is.

An HTML comment on the line before a block (invisible on the site) changes that, and says why:

* ``<!-- docs-test: skip REASON -->`` -- not run (e.g. it trains for many minutes);
* ``<!-- docs-test: requires MODULE -->`` -- run only when MODULE can be imported (a part of
  deepnum still being built), skipped with that reason otherwise.

Before a ``--8<-- "FILE"`` include line, it applies to every block of the included file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
RUN = {"python", "bash"}
SHOWN = {"text", "csv", "json"}
_MARKER = re.compile(r"^<!--\s*docs-test:\s*(skip|requires)\s+(.+?)\s*-->$")
_FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)")
_INCLUDE = re.compile(r'^--8<--\s+"([^"]+)"\s*$')
_PIP = re.compile(r"^\s*pip install [^&\n]*(&&\s*)?", re.M)


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    language: str
    code: str
    skip: str | None = None  # why it is not run
    requires: str | None = None  # a module it needs

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    def runnable_bash(self) -> str:
        return _PIP.sub("", self.code)


def blocks(page: Path, skip: str | None = None, requires: str | None = None) -> list[Block]:
    """Every fenced block of ``page`` in order, with the markers that apply to it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found, marker, i = [], None, 0
    while i < len(lines):
        line = lines[i]
        match = _MARKER.match(line.strip())
        if match:
            marker = match.groups()
            i += 1
            continue
        include = _INCLUDE.match(line.strip())
        fence = _FENCE.match(line)
        if include:
            kind, why = marker or (None, None)
            found += blocks(ROOT / include.group(1), why if kind == "skip" else skip,
                            why if kind == "requires" else requires)
            marker = None
        elif fence:
            indent, ticks, language = fence.groups()
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not lines[i].strip().startswith(ticks):
                body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
                i += 1
            kind, why = marker or (None, None)
            found.append(Block(page, start, language.lower(), "\n".join(body) + "\n",
                               why if kind == "skip" else skip,
                               why if kind == "requires" else requires))
            marker = None
        elif line.strip():
            marker = None  # a marker applies to the very next block only
        i += 1
    return found


def pages() -> list[Path]:
    return sorted(DOCS.rglob("*.md"))
