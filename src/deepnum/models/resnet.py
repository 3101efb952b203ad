"""ResNet (He, Zhang, Ren & Sun 2015): residual learning, the idea that made 152 layers trainable.

A residual block computes y = relu(F(x) + x): its layers learn the residual F(x) = H(x) - x that
the wanted mapping H adds to the identity, and the shortcut ``+ x`` carries the signal (and, in
backward, the gradient) past them unchanged. Where a block changes the width or halves the size,
the shortcut is a 1x1 convolution with stride 2 and batch norm (``downsample``).

    ImageNet (torchvision's layout and state-dict keys):
    conv1 7x7/2 64 -> bn1 -> relu -> maxpool 3x3/2 -> layer1..layer4 -> avgpool -> fc
    resnet18/34: BasicBlock (3x3, 3x3), [2,2,2,2] / [3,4,6,3] blocks; 11,689,512 / 21,797,672
    resnet50/101/152: Bottleneck (1x1, 3x3, 1x1 x4), [3,4,6,3] / [3,4,23,3] / [3,8,36,3];
    25,557,032 / 44,549,160 / 60,192,808 parameters at 1000 classes

    CIFAR-style (the paper's section 4.2), for 28x28 and 32x32 images:
    conv 3x3 16 -> 3 stages of n blocks at 16, 32, 64 channels -> avgpool -> fc; depth 6n + 2
    resnet20/32/56: 0.27M / 0.46M / 0.85M parameters

>>> model = build("resnet50")                       # 25,557,032 parameters
>>> model = build("resnet20", input_shape=(1, 28, 28), num_classes=10)
"""

from __future__ import annotations

from deepnum import nn
from deepnum.functions import flatten, pad
from deepnum.models import register
from deepnum.nn.module import Module


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class BasicBlock(Module):
    """Two 3x3 convolutions and the shortcut: relu(bn2(conv2(relu(bn1(conv1(x))))) + s(x)), s the
    identity or ``downsample``. ``shortcut=False`` drops the addition: the "plain" block of the
    paper's comparison. Two weight layers deep.

    >>> block = BasicBlock(64, 64)
    >>> block(dn.randn(2, 64, 8, 8)).shape          # (2, 64, 8, 8)
    """

    expansion = 1
    depth = 2

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None,
                 shortcut: bool = True):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU()
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample
        self.stride, self.shortcut = stride, bool(shortcut)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        if self.shortcut:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)

    def last_bn(self) -> nn.BatchNorm2d:
        return self.bn2


class Bottleneck(Module):
    """1x1 (reduce to ``planes``), 3x3 (stride here, as torchvision's "ResNet v1.5"), 1x1 (expand
    to 4 x planes), then the shortcut: a cheaper block for the deep ResNets. Three layers deep.

    >>> block = Bottleneck(256, 64)
    >>> block(dn.randn(2, 256, 8, 8)).shape         # (2, 256, 8, 8)
    """

    expansion = 4
    depth = 3

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample=None,
                 shortcut: bool = True):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU()
        self.downsample = downsample
        self.stride, self.shortcut = stride, bool(shortcut)

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        if self.shortcut:
            out = out + (x if self.downsample is None else self.downsample(x))
        return self.relu(out)

    def last_bn(self) -> nn.BatchNorm2d:
        return self.bn3


class ZeroPadShortcut(Module):
    """The paper's parameter-free shortcut "A" for a stage that halves the size and widens: every
    ``stride``-th pixel of x, with zero channels added, x[:, :, ::s, ::s] padded to ``planes``.

    >>> ZeroPadShortcut(32, 2)(dn.randn(1, 16, 8, 8)).shape      # (1, 32, 4, 4)
    """

    def __init__(self, planes: int, stride: int = 2):
        super().__init__()
        self.planes, self.stride = planes, stride

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]
        extra = self.planes - x.shape[1]
        return pad(x, (0, 0, 0, 0, extra // 2, extra - extra // 2))

    def extra_repr(self) -> str:
        return f"planes={self.planes}, stride={self.stride}"


_BLOCKS = {"basic": BasicBlock, "bottleneck": Bottleneck}


def init_weights(model: Module, zero_init_residual: bool) -> None:
    """torchvision's ResNet initialisation: convolutions He-normal in fan-out mode (std
    sqrt(2 / (out_channels * kh * kw))), batch norm gamma 1 and beta 0; the fully connected layer
    keeps PyTorch's default. ``zero_init_residual`` sets each block's last gamma to 0, so every
    residual branch starts at 0 and each block at the identity (Goyal et al. 2017)."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
    if zero_init_residual:
        for m in model.modules():
            if isinstance(m, (BasicBlock, Bottleneck)):
                nn.init.zeros_(m.last_bn().weight)


def _check(name: str, num_classes, in_channels) -> None:
    for arg, value in (("num_classes", num_classes), ("in_channels", in_channels)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name}: {arg} must be a positive int, got {value!r}")


class ResNet(Module):
    """The ImageNet ResNets, torchvision's modules and keys (``layer1.0.conv1.weight``,
    ``layer1.0.bn1.running_mean``, ``layer2.0.downsample.0.weight``, ``fc.weight``), so its
    checkpoints load unchanged. ``block`` is ``"basic"`` or ``"bottleneck"``, ``layers`` the
    blocks per stage. Any input of at least 1x1 after the stem works (28x28 reaches layer4 as
    1x1); the adaptive average pool makes the classifier independent of the size.

    >>> model = ResNet("basic", (2, 2, 2, 2), num_classes=10)         # ResNet-18
    >>> model(dn.randn(2, 3, 64, 64)).shape                            # (2, 10)
    """

    def __init__(self, block: str, layers, num_classes: int = 1000, in_channels: int = 3,
                 zero_init_residual: bool = False):
        super().__init__()
        if block not in _BLOCKS:
            raise ValueError(f"ResNet: block must be one of {list(_BLOCKS)}, got {block!r}")
        if len(layers) != 4 or any(not isinstance(n, int) or n < 1 for n in layers):
            raise ValueError(f"ResNet: layers must be 4 positive block counts, got {layers!r}")
        _check("ResNet", num_classes, in_channels)
        self.block, self.layers = _BLOCKS[block], tuple(layers)
        self.inplanes = 64
        self.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_layer(64, layers[0])
        self.layer2 = self._make_layer(128, layers[1], stride=2)
        self.layer3 = self._make_layer(256, layers[2], stride=2)
        self.layer4 = self._make_layer(512, layers[3], stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * self.block.expansion, num_classes)
        init_weights(self, zero_init_residual)

    def _make_layer(self, planes: int, blocks: int, stride: int = 1) -> nn.Sequential:
        width = planes * self.block.expansion
        downsample = None
        if stride != 1 or self.inplanes != width:
            downsample = nn.Sequential(conv1x1(self.inplanes, width, stride),
                                       nn.BatchNorm2d(width))
        stage = [self.block(self.inplanes, planes, stride, downsample)]
        self.inplanes = width
        stage += [self.block(width, planes) for _ in range(1, blocks)]
        return nn.Sequential(*stage)

    @property
    def depth(self) -> int:
        """Weight layers on the longest path: the stem, every block's, the classifier."""
        return 1 + sum(self.layers) * self.block.depth + 1

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(flatten(self.avgpool(x), 1))


class CifarResNet(Module):
    """The paper's CIFAR-10 networks (section 4.2): a 3x3 stem of 16 channels, three stages of n
    BasicBlocks at 16, 32 and 64 channels (the last two start with stride 2), global average
    pooling and the classifier; depth 6n + 2. ``shortcut`` "A" widens with zero channels (no
    parameters, the paper's choice: 269,722 parameters at depth 20), "B" with a 1x1 convolution
    and batch norm, and "none" gives the plain network of the same depth (the paper's Figure 6).

    >>> model = CifarResNet(20, num_classes=10, in_channels=1)
    >>> model(dn.randn(2, 1, 28, 28)).shape                      # (2, 10)
    """

    def __init__(self, depth: int = 20, num_classes: int = 10, in_channels: int = 3,
                 shortcut: str = "A", zero_init_residual: bool = False):
        super().__init__()
        if not isinstance(depth, int) or depth < 8 or (depth - 2) % 6:
            raise ValueError(f"CifarResNet: depth must be 6n + 2 (8, 20, 32, 44, 56, 110...), "
                             f"got {depth!r}")
        if shortcut not in ("A", "B", "none"):
            raise ValueError(f"CifarResNet: shortcut must be 'A', 'B' or 'none', "
                             f"got {shortcut!r}")
        _check("CifarResNet", num_classes, in_channels)
        self.blocks_per_stage, self.shortcut = (depth - 2) // 6, shortcut
        self.inplanes = 16
        self.conv1 = conv3x3(in_channels, 16)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()
        self.layer1 = self._make_layer(16, 1)
        self.layer2 = self._make_layer(32, 2)
        self.layer3 = self._make_layer(64, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(64, num_classes)
        init_weights(self, zero_init_residual)

    def _make_layer(self, planes: int, stride: int) -> nn.Sequential:
        downsample = None
        if (stride != 1 or self.inplanes != planes) and self.shortcut != "none":
            downsample = ZeroPadShortcut(planes, stride) if self.shortcut == "A" else \
                nn.Sequential(conv1x1(self.inplanes, planes, stride), nn.BatchNorm2d(planes))
        residual = self.shortcut != "none"
        stage = [BasicBlock(self.inplanes, planes, stride, downsample, shortcut=residual)]
        self.inplanes = planes
        stage += [BasicBlock(planes, planes, shortcut=residual)
                  for _ in range(1, self.blocks_per_stage)]
        return nn.Sequential(*stage)

    @property
    def depth(self) -> int:
        return 6 * self.blocks_per_stage + 2

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(flatten(self.avgpool(x), 1))


def _in_channels(in_channels, input_shape, default: int, name: str) -> int:
    if input_shape is not None:
        if len(input_shape) != 3:
            raise ValueError(f"{name}: input_shape must be (channels, height, width), "
                             f"got {input_shape!r}")
        return input_shape[0] if in_channels is None else in_channels
    return default if in_channels is None else in_channels


def _imagenet(name: str, block: str, layers):
    @register(name)
    def builder(num_classes: int = 1000, in_channels: int | None = None, input_shape=None,
                zero_init_residual: bool = False, **_):
        return ResNet(block, layers, num_classes, _in_channels(in_channels, input_shape, 3, name),
                      zero_init_residual)

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = f"{name}: torchvision's layout, {block} blocks {list(layers)}."
    return builder


def _cifar(depth: int):
    name = f"resnet{depth}"

    @register(name)
    def builder(num_classes: int = 10, in_channels: int | None = None, input_shape=None,
                shortcut: str = "A", zero_init_residual: bool = False, **_):
        return CifarResNet(depth, num_classes, _in_channels(in_channels, input_shape, 3, name),
                           shortcut, zero_init_residual)

    builder.__name__ = builder.__qualname__ = name
    builder.__doc__ = (f"{name}: the paper's CIFAR network, 3 stages of {(depth - 2) // 6} basic "
                       f"blocks (16, 32, 64 channels), for small images.")
    return builder


resnet18 = _imagenet("resnet18", "basic", (2, 2, 2, 2))
resnet34 = _imagenet("resnet34", "basic", (3, 4, 6, 3))
resnet50 = _imagenet("resnet50", "bottleneck", (3, 4, 6, 3))
resnet101 = _imagenet("resnet101", "bottleneck", (3, 4, 23, 3))
resnet152 = _imagenet("resnet152", "bottleneck", (3, 8, 36, 3))
resnet20, resnet32, resnet44, resnet56, resnet110 = map(_cifar, (20, 32, 44, 56, 110))
