"""Named models, a plain dict shared by the `deepnum` command, the Playground and the demos.

>>> from deepnum.models import build, MODELS
>>> model = build("mlp", in_features=784, num_classes=10, hidden=(256, 128))
"""

from __future__ import annotations

from collections.abc import Callable

MODELS: dict[str, Callable] = {}


def register(name: str):
    """Decorator: make a model builder available by name."""

    def add(builder: Callable) -> Callable:
        if name in MODELS:
            raise ValueError(f"model {name!r} is registered twice")
        MODELS[name] = builder
        return builder

    return add


def build(name: str, **kwargs):
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(sorted(MODELS))}")
    return MODELS[name](**kwargs)


# Each module below registers its models on import.
from deepnum.models import (  # noqa: E402, F401
    alexnet,
    googlenet,
    lenet,
    mlp,
    playground,
    recurrent,
    resnet,
    vgg,
)
