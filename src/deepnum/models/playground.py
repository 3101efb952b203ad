"""The Playground's network: fixed features of a 2-D point, then a small fully connected stack.

Living among the registered models means a file downloaded from the Playground loads with plain
``dn.load(path)`` (the loader rebuilds only deepnum's own classes) and takes raw points (x1, x2).

>>> net = build("playground", features=["x1", "x2", "sin_x1"], hidden=[8, 8], num_outputs=2)
>>> net(dn.tensor([[0.5, -1.0]])).shape          # (1, 2)
"""

from __future__ import annotations

import numpy as np

import deepnum.nn as nn
from deepnum.models import register
from deepnum.tensor import Tensor

# Each feature as a function of the two coordinates, and its largest magnitude on the Playground's
# square [-6, 6]^2 (used to scale its little heat map to [-1, 1]).
FEATURE_FUNCTIONS = {
    "x1": (lambda a, b: a, 6.0),
    "x2": (lambda a, b: b, 6.0),
    "x1^2": (lambda a, b: a * a, 36.0),
    "x2^2": (lambda a, b: b * b, 36.0),
    "x1*x2": (lambda a, b: a * b, 36.0),
    "sin_x1": (lambda a, b: np.sin(a), 1.0),
    "sin_x2": (lambda a, b: np.sin(b), 1.0),
}

# Activation names of the Playground -> deepnum.nn class names.
ACTIVATION_CLASSES = {
    "relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "linear": "Identity",
    "leaky_relu": "LeakyReLU", "elu": "ELU", "selu": "SELU", "softplus": "Softplus",
}


class PointFeatures(nn.Module):
    """Fixed input features of a point: phi(x1, x2) = (x1, x2, x1^2, x2^2, x1 x2, sin x1, sin x2).

    ``offset`` and ``scale`` first move raw points into the Playground's square,
    x <- (x - offset) * scale (identity for the built-in data; set for an uploaded CSV). The layer
    has no parameters and its input needs no gradient, so it computes in NumPy.

    >>> phi = PointFeatures(["x1", "x2", "x1*x2"])
    >>> phi(dn.tensor([[2.0, 3.0]]))                 # [[2, 3, 6]]
    """

    def __init__(self, names=("x1", "x2"), offset=(0.0, 0.0), scale=(1.0, 1.0)):
        super().__init__()
        unknown = [n for n in names if n not in FEATURE_FUNCTIONS]
        if not names or unknown:
            raise ValueError(f"PointFeatures: names must be some of {list(FEATURE_FUNCTIONS)}, "
                             f"got {list(names)!r}")
        if len(offset) != 2 or len(scale) != 2:
            raise ValueError(f"PointFeatures: offset and scale need 2 numbers each, "
                             f"got {offset!r} and {scale!r}")
        self.names = tuple(names)
        self.offset = tuple(float(v) for v in offset)
        self.scale = tuple(float(v) for v in scale)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim != 2 or x.shape[1] != 2:
            raise nn.functional.shape_error(self, "points of shape (N, 2)", x.shape)
        dtype = x.dtype if x.dtype.kind == "f" else np.float32
        points = (x.array - np.asarray(self.offset, dtype)) * np.asarray(self.scale, dtype)
        a, b = points[:, 0], points[:, 1]
        columns = [FEATURE_FUNCTIONS[name][0](a, b) for name in self.names]
        return Tensor._wrap(np.stack(columns, axis=1).astype(dtype, copy=False))

    def extra_repr(self) -> str:
        return f"names={list(self.names)}"


class SeededDropout(nn.Dropout):
    """:class:`~deepnum.nn.Dropout` drawing its masks from its own generator when it has one.

    deepnum's layers draw from the one global generator (``deepnum.random.get_rng()``); the
    Playground trains many networks at once, one per browser tab, and each must get the masks its
    own seed gives whatever the other tabs do. ``generator`` (a :class:`deepnum.Generator`, set by
    :meth:`PlaygroundNet.use_generator`) is that stream; without one this is ``nn.Dropout``. The
    mask is drawn exactly as ``F.dropout`` draws it, so a script that seeds deepnum's global
    generator the same way gets the same masks.
    """

    generator = None

    def forward(self, x: Tensor) -> Tensor:
        if self.generator is None or not self.training or self.p == 0:
            return super().forward(x)
        dtype = x.dtype if x.dtype.kind == "f" else np.float32
        keep = self.generator.rng.random(x.shape, dtype=dtype) >= self.p
        mask = keep.astype(x.dtype) * np.asarray(1 / (1 - self.p), dtype=x.dtype)
        return x * Tensor._wrap(mask)


class PlaygroundNet(nn.Sequential):
    """PointFeatures -> [Linear -> activation -> Dropout(p)?] per hidden layer -> Linear.

    Its constructor arguments are the whole architecture, so a saved file rebuilds it exactly.

    >>> net = PlaygroundNet(["x1", "x2"], hidden=[4, 2], activations=["tanh", "relu"])
    >>> net[1]                                        # Linear(in_features=2, out_features=4, ...)
    """

    def __init__(self, features=("x1", "x2"), hidden=(4, 2), activations=None,
                 dropout: float = 0.0, num_outputs: int = 2, offset=(0.0, 0.0),
                 scale=(1.0, 1.0)):
        activations = list(activations) if activations is not None else ["tanh"] * len(hidden)
        if len(activations) != len(hidden):
            raise ValueError(f"PlaygroundNet: {len(hidden)} hidden layers need as many "
                             f"activations, got {activations!r}")
        layers, width = [PointFeatures(features, offset, scale)], len(features)
        for size, name in zip(hidden, activations):
            if name not in ACTIVATION_CLASSES:
                raise ValueError(f"PlaygroundNet: activation must be one of "
                                 f"{list(ACTIVATION_CLASSES)}, got {name!r}")
            layers += [nn.Linear(width, size), getattr(nn, ACTIVATION_CLASSES[name])()]
            if dropout > 0:
                layers.append(SeededDropout(dropout))
            width = size
        layers.append(nn.Linear(width, num_outputs))
        super().__init__(*layers)
        self.features, self.hidden, self.activations = list(features), list(hidden), activations
        self.dropout, self.num_outputs = float(dropout), int(num_outputs)

    def head(self, features: Tensor) -> Tensor:
        """The network after its features layer, for points whose features are computed already
        (``net.head(net[0](x))`` is ``net(x)``): a trainer that sees the same points every epoch
        computes their features once."""
        for module in list(self)[1:]:
            features = module(features)
        return features

    def use_generator(self, generator) -> PlaygroundNet:
        """Draw the dropout masks from ``generator`` (a :class:`deepnum.Generator`) from now on,
        instead of deepnum's global generator; returns the network."""
        for module in self:
            if isinstance(module, SeededDropout):
                module.generator = generator
        return self

    def extra_repr(self) -> str:
        return f"hidden={self.hidden}, activations={self.activations}"


@register("playground")
def playground(**kwargs) -> PlaygroundNet:
    return PlaygroundNet(**kwargs)
