"""PyTorch twins of the reference networks, written here from torchvision's documented layouts with
plain torch.nn (torchvision is not installed), and the check that a twin's state dict loads into
our model unchanged and gives the twin's outputs, gradients and running statistics."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import deepnum as dn
from tests.helpers import assert_close, copy_module_weights


# ----------------------------------------------------------------------------- ResNet
class TorchBasicBlock(tnn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class TorchBottleneck(tnn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.conv2 = tnn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.conv3 = tnn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = tnn.BatchNorm2d(planes * 4)
        self.relu = tnn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class TorchResNet(tnn.Module):
    def __init__(self, block, layers, num_classes=1000, in_channels=3):
        super().__init__()
        self.inplanes = 64
        self.conv1 = tnn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
        self.bn1 = tnn.BatchNorm2d(64)
        self.relu = tnn.ReLU(inplace=True)
        self.maxpool = tnn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], 2)
        self.layer3 = self._make_layer(block, 256, layers[2], 2)
        self.layer4 = self._make_layer(block, 512, layers[3], 2)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = tnn.Sequential(
                tnn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                tnn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return tnn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class TorchZeroPad(tnn.Module):
    def __init__(self, planes):
        super().__init__()
        self.planes = planes

    def forward(self, x):
        x = x[:, :, ::2, ::2]
        extra = self.planes - x.shape[1]
        return TF.pad(x, (0, 0, 0, 0, extra // 2, extra - extra // 2))


class TorchCifarResNet(tnn.Module):
    """He et al.'s CIFAR network with the zero-padding shortcut "A"."""

    def __init__(self, depth=20, num_classes=10, in_channels=3):
        super().__init__()
        n, self.inplanes = (depth - 2) // 6, 16
        self.conv1 = tnn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(16)
        self.relu = tnn.ReLU()
        self.layer1, self.layer2, self.layer3 = (self._stage(p, s, n) for p, s in
                                                 ((16, 1), (32, 2), (64, 2)))
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(64, num_classes)

    def _stage(self, planes, stride, n):
        down = TorchZeroPad(planes) if stride != 1 or self.inplanes != planes else None
        blocks = [TorchBasicBlock(self.inplanes, planes, stride, down)]
        self.inplanes = planes
        return tnn.Sequential(*blocks, *(TorchBasicBlock(planes, planes) for _ in range(1, n)))

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.relu(self.bn1(self.conv1(x))))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


# ----------------------------------------------------------------------------- VGG
def torch_vgg(config, batch_norm, num_classes=1000, in_channels=3, dropout=0.5, hidden=4096):
    layers, width = [], in_channels
    for v in config:
        if v == "M":
            layers.append(tnn.MaxPool2d(2, 2))
            continue
        layers.append(tnn.Conv2d(width, v, 3, padding=1))
        layers += [tnn.BatchNorm2d(v), tnn.ReLU(True)] if batch_norm else [tnn.ReLU(True)]
        width = v
    model = tnn.Module()
    model.features = tnn.Sequential(*layers)
    model.avgpool = tnn.AdaptiveAvgPool2d((7, 7))
    model.classifier = tnn.Sequential(
        tnn.Linear(512 * 7 * 7, hidden), tnn.ReLU(True), tnn.Dropout(dropout),
        tnn.Linear(hidden, hidden), tnn.ReLU(True), tnn.Dropout(dropout),
        tnn.Linear(hidden, num_classes))
    model.forward = lambda x: model.classifier(torch.flatten(model.avgpool(model.features(x)), 1))
    return model


# ----------------------------------------------------------------------------- GoogLeNet
class TorchBasicConv2d(tnn.Module):
    def __init__(self, in_channels, out_channels, **kwargs):
        super().__init__()
        self.conv = tnn.Conv2d(in_channels, out_channels, bias=False, **kwargs)
        self.bn = tnn.BatchNorm2d(out_channels, eps=0.001)

    def forward(self, x):
        return TF.relu(self.bn(self.conv(x)), inplace=True)


class TorchInception(tnn.Module):
    def __init__(self, in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj):
        super().__init__()
        self.branch1 = TorchBasicConv2d(in_channels, ch1x1, kernel_size=1)
        self.branch2 = tnn.Sequential(TorchBasicConv2d(in_channels, ch3x3red, kernel_size=1),
                                      TorchBasicConv2d(ch3x3red, ch3x3, kernel_size=3, padding=1))
        self.branch3 = tnn.Sequential(TorchBasicConv2d(in_channels, ch5x5red, kernel_size=1),
                                      TorchBasicConv2d(ch5x5red, ch5x5, kernel_size=3, padding=1))
        self.branch4 = tnn.Sequential(tnn.MaxPool2d(3, stride=1, padding=1, ceil_mode=True),
                                      TorchBasicConv2d(in_channels, pool_proj, kernel_size=1))

    def forward(self, x):
        return torch.cat([self.branch1(x), self.branch2(x), self.branch3(x), self.branch4(x)], 1)


class TorchInceptionAux(tnn.Module):
    def __init__(self, in_channels, num_classes, dropout=0.7):
        super().__init__()
        self.conv = TorchBasicConv2d(in_channels, 128, kernel_size=1)
        self.fc1 = tnn.Linear(2048, 1024)
        self.fc2 = tnn.Linear(1024, num_classes)
        self.dropout = tnn.Dropout(dropout)

    def forward(self, x):
        x = torch.flatten(self.conv(TF.adaptive_avg_pool2d(x, (4, 4))), 1)
        return self.fc2(self.dropout(TF.relu(self.fc1(x), inplace=True)))


class TorchGoogLeNet(tnn.Module):
    def __init__(self, num_classes=1000, aux_logits=True, dropout=0.2, dropout_aux=0.7):
        super().__init__()
        self.aux_logits = aux_logits
        self.conv1 = TorchBasicConv2d(3, 64, kernel_size=7, stride=2, padding=3)
        self.maxpool1 = tnn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv2 = TorchBasicConv2d(64, 64, kernel_size=1)
        self.conv3 = TorchBasicConv2d(64, 192, kernel_size=3, padding=1)
        self.maxpool2 = tnn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception3a = TorchInception(192, 64, 96, 128, 16, 32, 32)
        self.inception3b = TorchInception(256, 128, 128, 192, 32, 96, 64)
        self.maxpool3 = tnn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.inception4a = TorchInception(480, 192, 96, 208, 16, 48, 64)
        self.inception4b = TorchInception(512, 160, 112, 224, 24, 64, 64)
        self.inception4c = TorchInception(512, 128, 128, 256, 24, 64, 64)
        self.inception4d = TorchInception(512, 112, 144, 288, 32, 64, 64)
        self.inception4e = TorchInception(528, 256, 160, 320, 32, 128, 128)
        self.maxpool4 = tnn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.inception5a = TorchInception(832, 256, 160, 320, 32, 128, 128)
        self.inception5b = TorchInception(832, 384, 192, 384, 48, 128, 128)
        if aux_logits:
            self.aux1 = TorchInceptionAux(512, num_classes, dropout_aux)
            self.aux2 = TorchInceptionAux(528, num_classes, dropout_aux)
        else:
            self.aux1 = self.aux2 = None
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.dropout = tnn.Dropout(dropout)
        self.fc = tnn.Linear(1024, num_classes)

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
        x = self.fc(self.dropout(torch.flatten(self.avgpool(x), 1)))
        return (x, aux2, aux1) if self.training and self.aux_logits else x


# ----------------------------------------------------------------------------- the check
def _randomise_batch_norm(theirs, seed=0):
    """Non-trivial batch-norm parameters and running statistics, so loading them matters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in theirs.modules():
            if isinstance(m, tnn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=g)
                m.bias.normal_(0, 0.1, generator=g)
                m.running_mean.normal_(0, 0.1, generator=g)
                m.running_var.uniform_(0.5, 1.5, generator=g)


def check_twin(ours, theirs, x: np.ndarray, dtype=np.float64, train=True):
    """The twin's state dict loads into ours unchanged (same keys, shapes, layouts); in eval mode
    both give the same outputs; in training mode the same outputs (every head), parameter and
    input gradients, and running statistics afterwards."""
    theirs = theirs.double() if dtype == np.float64 else theirs.float()
    ours = ours.double() if dtype == np.float64 else ours.float()
    _randomise_batch_norm(theirs)
    mine, twin = ours.state_dict(), theirs.state_dict()
    assert list(mine) == list(twin), set(mine) ^ set(twin)
    for key, value in twin.items():
        assert tuple(mine[key].shape) == tuple(value.shape), key
    copy_module_weights(ours, theirs)

    ours.eval(), theirs.eval()
    with torch.no_grad(), dn.no_grad():
        assert_close(ours(dn.tensor(x.astype(dtype))), theirs(torch.tensor(x.astype(dtype))),
                     dtype, "eval output")
    if not train:
        return
    ours.train(), theirs.train()
    xo, xt = dn.tensor(x.astype(dtype), requires_grad=True), \
        torch.tensor(x.astype(dtype), requires_grad=True)
    out_o, out_t = ours(xo), theirs(xt)
    heads_o = out_o if isinstance(out_o, tuple) else (out_o,)
    heads_t = out_t if isinstance(out_t, tuple) else (out_t,)
    assert len(heads_o) == len(heads_t)
    rng = np.random.default_rng(1)
    loss_o, loss_t = 0, 0
    for i, (a, b) in enumerate(zip(heads_o, heads_t)):
        assert_close(a, b, dtype, f"training output {i}")
        w = rng.standard_normal(tuple(b.shape)).astype(dtype)
        loss_o = loss_o + (a * dn.tensor(w)).sum()
        loss_t = loss_t + (b * torch.tensor(w)).sum()
    loss_o.backward()
    loss_t.backward()
    assert_close(xo.grad, xt.grad, dtype, "input gradient")
    grads = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        assert_close(p.grad, grads[name].grad, dtype, f"gradient of {name}")
    twin = theirs.state_dict()
    for name, value in ours.state_dict().items():
        assert_close(value, twin[name], dtype, f"{name} after a training step")
