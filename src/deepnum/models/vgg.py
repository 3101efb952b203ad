"""VGG (Simonyan & Zisserman 2014): depth from stacks of small 3x3 convolutions.

Two stacked 3x3 convolutions see a 5x5 window and three see 7x7, with fewer weights than one
large filter (3 x 9 C^2 instead of 49 C^2) and a ReLU between each. Five stages of 3x3
convolutions, each followed by a 2x2 max pool that halves the size, then three fully connected
layers:

    224x224x3 -> [64 x2] -> 112 -> [128 x2] -> 56 -> [256 x3] -> 28 -> [512 x3] -> 14
              -> [512 x3] -> 7x7x512 = 25088 -> fc 4096 -> fc 4096 -> fc 1000      (VGG-16)

Configurations A, B, D, E of the paper are VGG-11, -13, -16, -19 (weight layers). The layout and
state-dict keys are torchvision's (``features.0.weight``, ``classifier.6.bias``; with batch
norm ``features.1.running_mean``), so its checkpoints load unchanged.

>>> model = build("vgg16")                         # 138,357,544 parameters
>>> model = build("vgg11_bn", input_shape=(1, 28, 28), num_classes=10)
"""

from __future__ import annotations

from deepnum import nn
from deepnum.functions import flatten
from deepnum.models import register
from deepnum.nn._validate import probability
from deepnum.nn.module import Module

# channels of each 3x3 convolution, "M" a 2x2 max pool (the paper's table 1)
CONFIGS = {
    "A": (64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "B": (64, 64, "M", 128, 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"),
    "D": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"),
    "E": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
          512, 512, 512, 512, "M"),
}
DEPTHS = {11: "A", 13: "B", 16: "D", 19: "E"}


class VGG(Module):
    """VGG with configuration ``config`` ("A", "B", "D", "E"), optional batch norm after each
    convolution, ``dropout`` (p) before the second and third fully connected layers, and
    ``hidden`` units in the first two (4096, the paper's; fewer make a small network for small
    data: 512 x 7 x 7 x 4096 is 103 of VGG-16's 138 million weights).

    The pools are torchvision's (round down). ``ceil_mode=True`` rounds up, as the original Caffe
    network did: the same at 224x224 (sizes divisible by 32), and it lets 28x28 images through
    the five pools (28 -> 14 -> 7 -> 4 -> 2 -> 1) where rounding down would reach 0. The adaptive
    pool to 7x7 then repeats a 1x1 map, so the classifier has the same shape at any size.

    >>> model = VGG("A", batch_norm=True, num_classes=10, in_channels=1, ceil_mode=True, hidden=256)
    >>> model(dn.randn(2, 1, 28, 28)).shape          # (2, 10)
    """

    def __init__(self, config: str = "D", batch_norm: bool = False, num_classes: int = 1000,
                 in_channels: int = 3, dropout: float = 0.5, ceil_mode: bool = False,
                 hidden: int = 4096):
        super().__init__()
        if config not in CONFIGS:
            raise ValueError(f"VGG: config must be one of {list(CONFIGS)}, got {config!r}")
        probability("VGG", "dropout", dropout)
        for arg, value in (("num_classes", num_classes), ("in_channels", in_channels),
                           ("hidden", hidden)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"VGG: {arg} must be a positive int, got {value!r}")
        layers, width = [], in_channels
        for v in CONFIGS[config]:
            if v == "M":
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=ceil_mode))
                continue
            layers.append(nn.Conv2d(width, v, kernel_size=3, padding=1))
            layers += [nn.BatchNorm2d(v), nn.ReLU()] if batch_norm else [nn.ReLU()]
            width = v
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
        self.classifier = nn.Sequential(
            nn.Linear(512 * 7 * 7, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )
        self.config = config
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torchvision's: convolutions He-normal in fan-out mode with zero bias, batch norm 1 and
        0, fully connected weights N(0, 0.01^2) with zero bias."""
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01)
                nn.init.zeros_(m.bias)

    @property
    def depth(self) -> int:
        """Weight layers: the convolutions and the three fully connected layers."""
        return sum(v != "M" for v in CONFIGS[self.config]) + 3

    def forward(self, x):
        return self.classifier(flatten(self.avgpool(self.features(x)), 1))


def _vgg(depth: int, batch_norm: bool):
    name = f"vgg{depth}" + ("_bn" if batch_norm else "")

    @register(name)
    def builder(num_classes: int = 1000, in_channels: int | None = None, input_shape=None,
                dropout: float = 0.5, **_):
        channels, ceil_mode = 3, False
        if input_shape is not None:
            if len(input_shape) != 3:
                raise ValueError(f"{name}: input_shape must be (channels, height, width), "
                                 f"got {input_shape!r}")
            # sizes not divisible by 32 (28x28...) pool with ceil_mode, or they would reach 0
            channels, ceil_mode = input_shape[0], any(s % 32 for s in input_shape[1:])
        return VGG(DEPTHS[depth], batch_norm, num_classes,
                   channels if in_channels is None else in_channels, dropout, ceil_mode)

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = (f"VGG-{depth} (configuration {DEPTHS[depth]})"
                       + (" with batch norm" if batch_norm else "") + ", torchvision's layout.")
    return builder


vgg11, vgg13, vgg16, vgg19 = (_vgg(d, False) for d in DEPTHS)
vgg11_bn, vgg13_bn, vgg16_bn, vgg19_bn = (_vgg(d, True) for d in DEPTHS)
