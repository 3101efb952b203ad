"""What a network costs, counted from its layers' shapes: multiply-adds per image and depth.

A convolution producing an O x OH x OW map from C/groups x kh x kw windows does
O * OH * OW * (C/groups) * kh * kw multiply-adds; a fully connected layer in x out. Summed over
the layers this is the number papers quote (torchvision's "GFLOPS" column is this count: ResNet-50
4.09 G, VGG-16 15.47 G at 224x224); the floating-point operations are twice as many (a multiply
and an add each). Batch norm, ReLU, pooling and the residual additions are left out, as usual:
they are a few operations per activation, not per weight.

Nothing heavy is computed: for the count, every Conv2d and Linear is replaced by its shape rule
(it returns zeros of its output's shape and records its multiply-adds), and the model's own
forward runs on one zero image, so pooling, additions and concatenations give the shapes the
next layers see, whatever the architecture. VGG-19 at 224x224 is counted in well under a second.

>>> total, layers = multiply_adds(build("resnet50"), (3, 224, 224))
>>> round(total / 1e9, 2)                         # 4.09
"""

from __future__ import annotations

import math

import numpy as np

from deepnum import nn
from deepnum.autograd import no_grad
from deepnum.creation import zeros
from deepnum.nn.functional_conv import conv_padding
from deepnum.ops.conv import out_size

_NO_MULTIPLY_ADDS = (nn.BatchNorm1d, nn.BatchNorm2d)  # layers with weights counted as free


def _conv_rule(module: nn.Conv2d, record):
    def forward(x):
        module.check_input(x)
        pads = conv_padding(module.padding, module.kernel_size, module.dilation, module.stride)
        hw = [out_size(n, k, s, sum(p), d) for n, k, s, p, d in
              zip(x.shape[-2:], module.kernel_size, module.stride, pads, module.dilation)]
        shape = (*x.shape[:-3], module.out_channels, *hw)
        record(math.prod(shape) * math.prod(module.weight.shape[1:]))
        return zeros(shape, dtype=x.dtype)

    return forward


def _linear_rule(module: nn.Linear, record):
    def forward(x):
        module.check_input(x)
        record(math.prod(x.shape[:-1]) * module.in_features * module.out_features)
        return zeros((*x.shape[:-1], module.out_features), dtype=x.dtype)

    return forward


_RULES = {nn.Conv2d: _conv_rule, nn.Linear: _linear_rule}


def multiply_adds(model, input_shape) -> tuple[int, dict[str, int]]:
    """(total, {layer name: multiply-adds}) for one sample of ``input_shape`` (C, H, W), in the
    order the layers run. Only Conv2d and Linear count; a model with other weighted layers (an
    LSTM...) is refused rather than under-counted.

    >>> total, layers = multiply_adds(build("alexnet"), (3, 227, 227))
    """
    rules = {}
    for name, module in model.named_modules():
        if type(module) in _RULES:
            rules[name] = module
        elif any(p is not None for p in module._parameters.values()) and \
                not isinstance(module, _NO_MULTIPLY_ADDS):
            raise ValueError(f"multiply_adds counts Conv2d and Linear layers; {name or 'the model'}"
                             f" is a {type(module).__name__} with weights of its own")
    counts: dict[str, int] = {}
    was_training = model.training
    try:
        for name, module in rules.items():
            module.forward = _RULES[type(module)](
                module, lambda n, name=name: counts.__setitem__(name, counts.get(name, 0) + n))
        model.eval()  # batch norm on one image: the running statistics, nothing else changes
        with no_grad():
            model(zeros((1, *input_shape), dtype=np.float32))
    finally:
        for module in rules.values():
            if "forward" in module.__dict__:
                del module.forward
        model.train(was_training)
    return sum(counts.values()), counts


def weighted_depth(model) -> int:
    """The depth papers quote: weight layers on the longest path from input to output (AlexNet 8,
    VGG-19 19, GoogLeNet 22, ResNet-152 152). A model with branches says it (``model.depth``);
    for a chain it is the number of Conv2d and Linear layers."""
    depth = getattr(model, "depth", None)
    if isinstance(depth, int):
        return depth
    return sum(isinstance(m, (nn.Conv2d, nn.Linear)) for m in model.modules())
