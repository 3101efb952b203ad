"""MkDocs hooks of the documentation site.

A reference page says ``<!-- reference: deepnum.nn -->``; at build time that line becomes one
mkdocstrings block listing every public name of the module as the code has it now (its
``__all__``, else every name not starting with ``_`` that deepnum defines), so the API reference
can never miss a name or keep a removed one. ``public_names`` is also what tests/docs checks.
"""

from __future__ import annotations

import importlib
import importlib.util
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


def shadowed(module_name: str, name: str) -> bool:
    """``module.name`` is both an object (``dn.tensor``, ``nn.activation``) and a submodule's
    name: griffe, reading the source, would document the submodule under that name."""
    if not hasattr(importlib.import_module(module_name), "__path__"):
        return False  # a plain module has no submodules
    return importlib.util.find_spec(f"{module_name}.{name}") is not None


def anchor(module_name: str, name: str) -> str:
    """The identifier the reference documents ``module.name`` under."""
    if not shadowed(module_name, name):
        return f"{module_name}.{name}"
    obj = getattr(importlib.import_module(module_name), name)
    return f"{obj.__module__}.{obj.__qualname__}"


def _static(module, name: str) -> bool:
    """Whether griffe can find ``name`` by reading or inspecting ``module``: not a function a
    factory made at import (its qualname says ``<locals>``), nor a value the module's
    ``__getattr__`` makes on first use."""
    obj = getattr(module, name)
    return name in vars(module) and "<locals>" not in getattr(obj, "__qualname__", "")


def _plain_entry(module_name: str, name: str) -> str:
    """A reference entry written here, for the few names griffe cannot see."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from griffe_doctest import markdown

    obj = getattr(importlib.import_module(module_name), name)
    if callable(obj):
        signature, doc = f"{name}{inspect.signature(obj)}", markdown(inspect.getdoc(obj) or "")
    else:  # a value: its type, and its keys for a registry
        signature = f"{name}: {type(obj).__name__}"
        doc = f"Keys: {', '.join(f'`{k}`' for k in obj)}." if isinstance(obj, dict) else ""
    heading = f"### `{module_name}.{name}` {{ #{module_name}.{name} }}"
    return f"\n{heading}\n\n```text\n{signature}\n```\n\n{doc}\n"


def expand(markdown: str) -> str:
    def block(match) -> str:
        module = match.group(1)
        exclude = [n.strip() for n in (match.group(2) or "").split(",") if n.strip()]
        names = public_names(module, exclude)
        loaded = importlib.import_module(module)
        plain = [n for n in names if not shadowed(module, n) and not _static(loaded, n)]
        listed = "\n".join(f"        - {n}" for n in names
                           if not shadowed(module, n) and n not in plain)
        text = f"::: {module}\n    options:\n      members:\n{listed}\n"
        for n in names:  # documented at their home, under the name they are used by
            if shadowed(module, n):
                text += (f"\n::: {anchor(module, n)}\n    options:\n      heading_level: 3\n"
                         f"      show_root_full_path: true\n")
        return text + "".join(_plain_entry(module, n) for n in plain)

    return _MARKER.sub(block, markdown)


def on_page_markdown(markdown: str, **kwargs) -> str:
    return expand(markdown)
