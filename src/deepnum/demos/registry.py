"""The demo registry and what a demo hands back: a plain dict from name to :class:`Demo`.

A demo is a function ``run(ctx)`` that trains what it needs, saves figures and tables through
``ctx`` (:class:`deepnum.demos.context.DemoContext`), says what it shows, and states its claim with
``ctx.check(...)``. Registering is one decorator:

>>> @demo("softmax", "softmax and the two losses, in the lecture's numbers")
... def run(ctx): ...
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field

from deepnum.errors import DeepnumError


class DemoUnavailable(DeepnumError):
    """A demo cannot run here: the part of deepnum (or a file) it stands on is not there yet."""


@dataclass
class Demo:
    name: str
    title: str  # one line: the lecture's claim this demo makes happen
    func: Callable
    core: bool = True  # False for the entry points to other parts of deepnum (they may be missing)


@dataclass
class Check:
    name: str
    passed: bool
    detail: str


@dataclass
class DemoResult:
    """What one run produced. ``status`` is passed, failed (a check did not hold), error (the demo
    crashed) or unavailable (something it needs is missing)."""

    name: str
    title: str
    status: str
    summary: str = ""
    figures: list = field(default_factory=list)  # (file name, caption)
    tables: list = field(default_factory=list)  # (file name, caption, rows)
    checks: list = field(default_factory=list)  # Check
    seconds: float = 0.0
    message: str = ""  # why it failed, errored or is unavailable

    @property
    def ok(self) -> bool:
        return self.status == "passed"


DEMOS: dict[str, Demo] = {}


def demo(name: str, title: str, core: bool = True):
    """Decorator: register ``func(ctx)`` as the demo ``name``."""

    def add(func: Callable) -> Callable:
        if name in DEMOS:
            raise ValueError(f"demo {name!r} is registered twice")
        DEMOS[name] = Demo(name, title, func, core)
        return func

    return add


# One module per demo (or small family); each registers itself on import, in the lectures' order.
MODULES = ("neuron", "perceptron", "xor", "activations", "nonlinearity", "universal", "softmax",
           "backprop", "sgd", "overfitting", "regularization", "dropout", "depth", "residual",
           "vanishing", "entry_points", "playground_demo")


def load_all() -> dict[str, Demo]:
    """Import every demo module (on first use, so `deepnum --help` stays quick); returns DEMOS."""
    for module in MODULES:
        importlib.import_module(f"deepnum.demos.{module}")
    return DEMOS
