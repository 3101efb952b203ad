"""AlexNet (Krizhevsky, Sutskever & Hinton 2012), the lecture's ImageNet network, and a small
AlexNet-style network for 28x28 images that trains on a CPU.

The lecture's AlexNet, one image 227x227x3:

    conv 96@11x11 s4 -> 55x55x96 -> max pool 3x3 s2 -> 27x27x96
    conv 256@5x5 same -> 27x27x256 -> max pool 3x3 s2 -> 13x13x256
    conv 384@3x3 same -> conv 384@3x3 same -> conv 256@3x3 same -> 13x13x256
    max pool 3x3 s2 -> 6x6x256 = 9216 -> fc 4096 -> fc 4096 -> fc 1000 -> softmax

>>> model = build("alexnet")                      # 62,378,344 parameters
>>> model(dn.randn(2, 3, 227, 227)).shape         # (2, 1000)
"""

from __future__ import annotations

from deepnum import nn
from deepnum.models import register
from deepnum.nn._validate import probability
from deepnum.nn.module import Module


class AlexNet(Module):
    """The single-tower AlexNet of the lecture: 62,378,344 parameters for 1000 classes.

    The lecture's "9216 x 4096 x 4096 = 154,618,822,656" multiplies layer *widths*; it is not a
    parameter count. The weights are the sum over layers of (inputs x outputs + outputs):
    conv 34,944 + 614,656 + 885,120 + 1,327,488 + 884,992 and fc 37,752,832 + 16,781,312 +
    4,097,000 = 62,378,344, of which the first fully connected layer alone holds 60%. (The 2012
    paper split conv 2, 4 and 5 across two GPUs, groups=2, which gives fewer; its local response
    normalisation is left out, as in most re-implementations.) The lecture's slide writes the first
    pool's stride as 4; it must be 2 to give 27x27. Dropout (p) precedes the first two fully
    connected layers, as in the paper. An adaptive average pool to 6x6 is the identity at 227x227
    and lets 224x224 inputs work too.

    >>> model = AlexNet(num_classes=10, dropout=0.5)
    >>> model.features[0]              # Conv2d(3, 96, kernel_size=(11, 11), stride=(4, 4))
    """

    def __init__(self, num_classes: int = 1000, in_channels: int = 3, dropout: float = 0.5):
        super().__init__()
        probability("AlexNet", "dropout", dropout)
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, 96, kernel_size=11, stride=4), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(96, 256, kernel_size=5, padding=2), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(256, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 384, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv2d(384, 256, kernel_size=3, padding=1), nn.ReLU(),
            nn.MaxPool2d(kernel_size=3, stride=2),
        )
        self.avgpool = nn.AdaptiveAvgPool2d((6, 6))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout), nn.Linear(256 * 6 * 6, 4096), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(4096, 4096), nn.ReLU(),
            nn.Linear(4096, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.avgpool(self.features(x)))


class AlexNetSmall(Module):
    """AlexNet's pattern at MNIST scale: five 3x3 convolutions (two followed by a 2x2 max pool, the
    last by AlexNet's overlapping 3x3 stride-2 pool), then three fully connected layers with
    dropout. 28x28 -> 14x14 -> 7x7 -> 3x3; about 0.23 M parameters with the default widths.

    >>> model = AlexNetSmall(num_classes=10)
    >>> model(dn.randn(4, 1, 28, 28)).shape         # (4, 10)
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1, dropout: float = 0.5,
                 channels=(16, 32, 48, 48, 32), hidden: int = 256, input_size=(28, 28)):
        super().__init__()
        probability("AlexNetSmall", "dropout", dropout)
        if len(channels) != 5:
            raise ValueError(f"AlexNetSmall: channels must list 5 widths, got {channels!r}")
        c1, c2, c3, c4, c5 = channels
        h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
        fh, fw = ((h // 2 // 2) - 3) // 2 + 1, ((w // 2 // 2) - 3) // 2 + 1
        if fh < 1 or fw < 1:
            raise ValueError(f"AlexNetSmall: input_size must be at least 12x12, got {input_size!r}")
        self.features = nn.Sequential(
            nn.Conv2d(in_channels, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c3, c4, 3, padding=1), nn.ReLU(),
            nn.Conv2d(c4, c5, 3, padding=1), nn.ReLU(),
            nn.MaxPool2d(3, stride=2),
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout), nn.Linear(c5 * fh * fw, hidden), nn.ReLU(),
            nn.Dropout(dropout), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def _channels_and_size(in_channels, input_shape, default_channels, default_size):
    if input_shape is None:
        return (default_channels if in_channels is None else in_channels), default_size
    if len(input_shape) != 3:
        raise ValueError(f"alexnet: input_shape must be (channels, height, width), "
                         f"got {input_shape!r}")
    return (input_shape[0] if in_channels is None else in_channels), tuple(input_shape[1:])


@register("alexnet")
def alexnet(num_classes: int = 1000, in_channels: int | None = None, input_shape=None,
            dropout: float = 0.5, **_):
    """The lecture's AlexNet for 227x227 RGB images (62,378,344 parameters at 1000 classes)."""
    in_channels, _size = _channels_and_size(in_channels, input_shape, 3, (227, 227))
    return AlexNet(num_classes, in_channels, dropout)


@register("alexnet-small")
def alexnet_small(num_classes: int = 10, in_channels: int | None = None, input_shape=None,
                  dropout: float = 0.5, **_):
    """An AlexNet-style network for 28x28 grey images that trains on a CPU."""
    in_channels, size = _channels_and_size(in_channels, input_shape, 1, (28, 28))
    return AlexNetSmall(num_classes, in_channels, dropout, input_size=size)
