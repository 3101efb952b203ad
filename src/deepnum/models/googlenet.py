"""GoogLeNet, Inception v1 (Szegedy et al. 2014): width by parallel branches, 22 layers deep.

An Inception module runs four branches on the same input and concatenates their outputs along
the channels: a 1x1 convolution, a 1x1 "reduction" then a 3x3, a reduction then a larger
filter, and a 3x3 max pool then a 1x1 projection. The 1x1 reductions keep the cost down: 4e's
5x5-branch costs 832 x 32 + 32 x 128 x 25 multiplies per pixel instead of 832 x 128 x 25.

    224x224x3 -> conv 7x7/2 64 -> pool -> conv 1x1 64 -> conv 3x3 192 -> pool -> 3a, 3b -> pool
    -> 4a, 4b, 4c, 4d, 4e -> pool -> 5a, 5b -> global average pool 1024 -> dropout -> fc 1000

6,624,904 parameters at 1000 classes without the two auxiliary classifiers (13,004,888 with
them). The layout and state-dict keys are torchvision's (``conv1.conv.weight``,
``inception3a.branch2.1.bn.running_var``, ``aux1.fc2.weight``, ``fc.weight``), which also keeps
two of its choices: batch norm after every convolution (added after the paper, eps 0.001), and
a 3x3 (not 5x5) filter in the third branch, as in the checkpoint torchvision converted. Every
pool rounds up (``ceil_mode``), as the Caffe original did.

>>> model = build("googlenet")                   # 6,624,904 parameters
>>> model(dn.randn(1, 3, 224, 224)).shape        # (1, 1000)
"""

from __future__ import annotations

from collections import namedtuple

import deepnum.nn.functional as F
from deepnum import nn
from deepnum.functions import cat, flatten
from deepnum.models import register
from deepnum.nn._validate import probability
from deepnum.nn.module import Module

GoogLeNetOutputs = namedtuple("GoogLeNetOutputs", ["logits", "aux_logits2", "aux_logits1"])

# (in, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection): the paper's table 1
INCEPTIONS = {
    "3a": (192, 64, 96, 128, 16, 32, 32), "3b": (256, 128, 128, 192, 32, 96, 64),
    "4a": (480, 192, 96, 208, 16, 48, 64), "4b": (512, 160, 112, 224, 24, 64, 64),
    "4c": (512, 128, 128, 256, 24, 64, 64), "4d": (512, 112, 144, 288, 32, 64, 64),
    "4e": (528, 256, 160, 320, 32, 128, 128),
    "5a": (832, 256, 160, 320, 32, 128, 128), "5b": (832, 384, 192, 384, 48, 128, 128),
}


class BasicConv2d(Module):
    """Convolution (no bias), batch norm (eps 0.001), ReLU: GoogLeNet's unit of weights.

    >>> BasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)(dn.randn(1, 3, 32, 32)).shape
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1, padding=0):
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class Inception(Module):
    """Four branches on one input, concatenated along the channels: out has ch1x1 + ch3x3 +
    ch5x5 + pool_proj channels at the input's size. Two weight layers deep.

    >>> Inception(192, 64, 96, 128, 16, 32, 32)(dn.randn(1, 192, 28, 28)).shape  # (1, 256, 28, 28)
    """

    depth = 2

    def __init__(self, in_channels: int, ch1x1: int, ch3x3red: int, ch3x3: int, ch5x5red: int,
                 ch5x5: int, pool_proj: int):
        super().__init__()
        self.branch1 = BasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = nn.Sequential(BasicConv2d(in_channels, ch3x3red, kernel_size=1),
                                     BasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = nn.Sequential(BasicConv2d(in_channels, ch5x5red, kernel_size=1),
                                     BasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                     BasicConv2d(in_channels, pool_proj, kernel_size=1))

    def forward(self, x):
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return cat([branch(x) for branch in branches], 1)


class InceptionAux(Module):
    """An auxiliary classifier on an intermediate map (after 4a and 4d): average pool to 4x4,
    1x1 convolution to 128 channels, fc 1024 with ReLU, dropout 0.7, fc to the classes. Its loss,
    weighted 0.3 in the paper, pushes gradient into the middle of the network during training.
    """

    def __init__(self, in_channels: int, num_classes: int, dropout: float = 0.7):
        super().__init__()
        self.conv = BasicConv2d(in_channels, 128, kernel_size=1)
        self.fc1 = nn.Linear(2048, 1024)
        self.fc2 = nn.Linear(1024, num_classes)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        x = self.conv(F.adaptive_avg_pool2d(x, (4, 4)))
        return self.fc2(self.dropout(F.relu(self.fc1(flatten(x, 1)))))


class GoogLeNet(Module):
    """GoogLeNet with torchvision's modules and defaults. With ``aux_logits`` (torchvision's
    default) the two auxiliary classifiers exist, and in training mode the forward returns
    ``GoogLeNetOutputs(logits, aux_logits2, aux_logits1)``, in evaluation mode the logits alone.
    ``dropout`` (p) precedes the classifier, ``dropout_aux`` the auxiliaries' second layer.

    >>> model = GoogLeNet(num_classes=10, aux_logits=False, in_channels=1)
    >>> model(dn.randn(2, 1, 28, 28)).shape          # (2, 10): the ceil-mode pools end at 1x1
    """

    def __init__(self, num_classes: int = 1000, aux_logits: bool = True, in_channels: int = 3,
                 dropout: float = 0.2, dropout_aux: float = 0.7):
        super().__init__()
        probability("GoogLeNet", "dropout", dropout)
        probability("GoogLeNet", "dropout_aux", dropout_aux)
        for arg, value in (("num_classes", num_classes), ("in_channels", in_channels)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"GoogLeNet: {arg} must be a positive int, got {value!r}")
        self.aux_logits = bool(aux_logits)
        self.conv1 = BasicConv2d(in_channels, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = BasicConv2d(64, 64, kernel_size=1)
        self.conv3 = BasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a, self.inception3b = Inception(*INCEPTIONS["3a"]), \
            Inception(*INCEPTIONS["3b"])
        self.maxpool3 = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        for name in ("4a", "4b", "4c", "4d", "4e"):
            setattr(self, f"inception{name}", Inception(*INCEPTIONS[name]))
        self.maxpool4 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a, self.inception5b = Inception(*INCEPTIONS["5a"]), \
            Inception(*INCEPTIONS["5b"])
        if self.aux_logits:
            self.aux1 = InceptionAux(512, num_classes, dropout_aux)
            self.aux2 = InceptionAux(528, num_classes, dropout_aux)
        else:
            self.aux1 = self.aux2 = None
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(1024, num_classes)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """torchvision's: convolution and fully connected weights N(0, 0.01^2) truncated to
        [-2, 2], batch norm 1 and 0 (the fully connected biases keep PyTorch's default)."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.trunc_normal_(m.weight, mean=0.0, std=0.01, a=-2, b=2)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    @property
    def depth(self) -> int:
        """Weight layers on the longest path: conv1..3, two per Inception module, fc: 22."""
        return 3 + Inception.depth * len(INCEPTIONS) + 1

    def forward(self, x):
        x = self.maxpool1(self.conv1(x))
        x = self.maxpool2(self.conv3(self.conv2(x)))
        x = self.maxpool3(self.inception3b(self.inception3a(x)))
        x = self.inception4a(x)
        aux1 = self.aux1(x) if self.aux1 is not None and self.training else None
        x = self.inception4d(self.inception4c(self.inception4b(x)))
        aux2 = self.aux2(x) if self.aux2 is not None and self.training else None
        x = self.maxpool4(self.inception4e(x))
        x = self.inception5b(self.inception5a(x))
        x = self.fc(self.dropout(flatten(self.avgpool(x), 1)))
        if self.aux_logits and self.training:
            return GoogLeNetOutputs(x, aux2, aux1)
        return x


@register("googlenet")
def googlenet(num_classes: int = 1000, in_channels: int | None = None, input_shape=None,
              aux_logits: bool = False, **_):
    """GoogLeNet without the auxiliary classifiers (the slide's network; a model the ``deepnum``
    command can train); ``aux_logits=True`` adds them."""
    if input_shape is not None:
        if len(input_shape) != 3:
            raise ValueError(f"googlenet: input_shape must be (channels, height, width), "
                             f"got {input_shape!r}")
        in_channels = input_shape[0] if in_channels is None else in_channels
    return GoogLeNet(num_classes, aux_logits, 3 if in_channels is None else in_channels)
