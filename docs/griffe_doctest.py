"""A griffe extension for the API reference: deepnum's docstrings are written for ``help()``
(reStructuredText habits), the site renders Markdown. Three conversions keep them readable:

* runs of ``>>>`` / ``...`` lines (doctest examples) become fenced ``pycon`` code blocks, which
  Markdown would otherwise show as nested block quotes;
* a paragraph ending in ``::`` followed by an indented block becomes a fenced code block;
* Sphinx roles (``:func:`fit```, ``:class:`~deepnum.nn.Linear```) become inline code.
"""

from __future__ import annotations

import re

from griffe import Extension

_ROLE = re.compile(r":(?:func|class|meth|mod|data|attr|exc|obj|ref):`~?([^`]+)`")


def markdown(text: str) -> str:
    """The docstring ``text`` with doctest runs and literal blocks fenced and roles as code."""
    lines, out, i = text.splitlines(), [], 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            block = []
            while i < len(lines) and lines[i].strip() and lines[i].startswith(indent):
                block.append(lines[i][len(indent):])
                i += 1
            out += ["```pycon", *block, "```"]
            continue
        if line.rstrip().endswith("::") and i + 2 < len(lines) and not lines[i + 1].strip() \
                and lines[i + 2].startswith((" ", "\t")):
            out.append(line.rstrip()[:-1])
            i += 2
            block = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            width = min(len(b) - len(b.lstrip()) for b in block if b.strip())
            out += ["", "```text", *(b[width:] for b in block), "```", ""]
            continue
        out.append(_ROLE.sub(r"`\1`", line))
        i += 1
    return "\n".join(out)


class DoctestBlocks(Extension):
    """Rewrite every docstring with :func:`markdown` as griffe loads it."""

    def on_object(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
