"""Fully connected models: the perceptron, the softmax classifier and the multi-layer perceptron.

Every builder takes ``input_shape`` (one sample's shape, e.g. ``(1, 28, 28)``; ``in_features`` is
accepted instead) and ``num_classes``, and ignores options meant for other models, so the
``deepnum`` command can pass the same keywords to any registered model.

>>> model = build("mlp", input_shape=(1, 28, 28), num_classes=10, hidden=(256, 128), dropout=0.2)
>>> model = build("softmax", input_shape=(1, 28, 28), num_classes=10)     # 784 x 10
"""

from __future__ import annotations

import math

from deepnum import nn
from deepnum.models import register
from deepnum.nn.linear import Flatten, Linear
from deepnum.nn.module import Module


def _in_features(input_shape=None, in_features=None) -> int:
    if in_features is not None:
        return int(in_features)
    if input_shape is None:
        raise ValueError("model builder: give input_shape (e.g. (1, 28, 28)) or in_features")
    return int(math.prod(input_shape))


class Perceptron(Module):
    """Rosenblatt's perceptron for C classes: one layer of threshold units, z = W x + b,
    predicted class argmax_c z_c.

    It trains with the perceptron criterion (``default_loss = "perceptron"``, see
    :func:`deepnum.train.losses.perceptron_loss`): L = max(0, max_j z_j - z_y), which is zero for
    a correctly classified sample; otherwise SGD with learning rate 1 adds x to the true class's
    weights and subtracts it from the wrongly winning class's: Rosenblatt's update rule.

    >>> model = Perceptron(784, 10)
    >>> model(dn.zeros(5, 1, 28, 28)).shape       # (5, 10)
    """

    default_loss = "perceptron"

    def __init__(self, in_features: int, num_classes: int):
        super().__init__()
        self.flatten = Flatten()
        self.linear = Linear(in_features, num_classes)

    def forward(self, x):
        return self.linear(self.flatten(x))


@register("perceptron")
def perceptron(input_shape=None, num_classes: int = 10, in_features=None, **_):
    """A single layer trained with the perceptron criterion (Rosenblatt's rule)."""
    return Perceptron(_in_features(input_shape, in_features), num_classes)


@register("softmax")
def softmax(input_shape=None, num_classes: int = 10, in_features=None, **_):
    """The lecture's linear classifier: z = W x + b (784 x 10 for MNIST) trained with
    softmax + cross-entropy (the softmax lives in the loss, for stability)."""
    return nn.Sequential(Flatten(), Linear(_in_features(input_shape, in_features), num_classes))


@register("mlp")
def mlp(input_shape=None, num_classes: int = 10, hidden=(256, 128), activation: str = "relu",
        dropout: float = 0.0, in_features=None, **_):
    """Flatten, then [Linear, activation, Dropout] per hidden layer, then Linear to the classes.

    >>> mlp(input_shape=(64,), num_classes=10, hidden=(32,))   # 64 -> 32 -> 10
    """
    if isinstance(hidden, int):
        hidden = (hidden,)
    make = lambda: nn.activation(str(activation))  # noqa: E731 - raises for an unknown name
    if not getattr(make(), "differentiable", True):
        raise ValueError(f"mlp: the {activation} activation has no gradient, so the layers "
                         f"below it cannot learn; choose another")
    if not 0 <= dropout < 1:
        raise ValueError(f"mlp: dropout must be in [0, 1), got {dropout!r}")
    width = _in_features(input_shape, in_features)
    layers = [Flatten()]
    for size in hidden:
        layers += [Linear(width, int(size)), make()]
        if dropout:
            layers.append(nn.Dropout(dropout))
        width = int(size)
    layers.append(Linear(width, num_classes))
    return nn.Sequential(*layers)
