"""MkDocs hooks of the documentation site.

A reference page says ``<!-- reference: deepnum.nn -->``; at build time that line becomes one
mkdocstrings block listing every public name of the module as the code has it now (its
``__all__``, else every name not starting with ``_`` that deepnum defines), so the API reference
can never miss a name or keep a removed one. ``public_names`` is also what tests/docs checks.
"""

from __future__ import annotations

import importlib
import inspect
import re
import types

_MARKER = re.compile(r"^<!-- reference: ([\w.]+)(?: exclude: ([\w, ]+))? -->$", re.M)


def public_names(module_name: str, exclude=()) -> list[str]:
    """The public names of ``module_name``, in source order where the module says (__all__)."""
    module = importlib.import_module(module_name)
    names = getattr(module, "__all__", None)
    if names is None:
        names = sorted(n for n in vars(module) if not n.startswith("_"))
    keep = []
    for name in names:
        obj = getattr(module, name)
        if isinstance(obj, types.ModuleType) or name in exclude or name == "annotations":
            continue
        home = getattr(obj, "__module__", None) if (inspect.isclass(obj) or callable(obj)) \
            else None
        if home is not None and not home.startswith("deepnum"):
            continue  # typing.Callable, pathlib.Path ... imported for the module's own use
        keep.append(name)
    return keep


def expand(markdown: str) -> str:
    def block(match) -> str:
        exclude = [n.strip() for n in (match.group(2) or "").split(",") if n.strip()]
        members = public_names(match.group(1), exclude)
        listed = "\n".join(f"        - {n}" for n in members)
        return f"::: {match.group(1)}\n    options:\n      members:\n{listed}\n"

    return _MARKER.sub(block, markdown)


def on_page_markdown(markdown: str, **kwargs) -> str:
    return expand(markdown)
