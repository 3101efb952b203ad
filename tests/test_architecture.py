"""The layout the style guide promises, checked: the reference ops never import the speed wing,
containers import no concrete layer, and every compiled kernel sits in the wing behind a
contract."""

import ast
from pathlib import Path

import deepnum

SRC = Path(deepnum.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


def test_the_reference_ops_never_import_the_speed_wing():
    for path in (SRC / "ops").glob("*.py"):
        wing = {n for n in _imports(path) if n.startswith("deepnum.fast") or "jit" in n}
        assert not wing, f"{path.name} imports {wing}"


def test_containers_import_no_concrete_layer():
    imported = _imports(SRC / "nn" / "container.py")
    layers = {n for n in imported if n.startswith("deepnum.nn.") and not n.startswith(
        ("deepnum.nn.module", "deepnum.nn.fusion"))}
    assert not layers, layers


def test_every_compiled_kernel_lives_in_the_speed_wing():
    for path in SRC.rglob("*.py"):
        if "jit.kernel(" in path.read_text():
            assert path.parent.name == "fast", path
