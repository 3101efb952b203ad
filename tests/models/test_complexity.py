"""Multiply-adds per image counted from the layers' shapes, and the depth papers quote."""

import numpy as np
import pytest

import deepnum as dn
from deepnum import nn
from deepnum.models import MODELS
from deepnum.models.complexity import multiply_adds, weighted_depth

# torchvision's published "GFLOPS" at 224x224 (multiply-adds of convolutions and linear layers)
PUBLISHED = {"vgg11": 7.61, "vgg13": 11.31, "vgg16": 15.47, "vgg19": 19.63, "vgg16_bn": 15.47,
             "googlenet": 1.50, "resnet18": 1.81, "resnet34": 3.66, "resnet50": 4.09,
             "resnet101": 7.80, "resnet152": 11.51}
DEPTHS = {"alexnet": 8, "vgg19": 19, "googlenet": 22, "resnet152": 152, "resnet20": 20,
          "vgg16_bn": 16, "lenet5": 5}


@pytest.mark.parametrize("name", PUBLISHED)
def test_multiply_adds_at_224_are_the_published_ones(name):
    with nn.init.skipped():
        model = MODELS[name]()
    total, layers = multiply_adds(model, (3, 224, 224))
    assert round(total / 1e9, 2) == pytest.approx(PUBLISHED[name], abs=0.011)
    assert all(n > 0 for n in layers.values())


@pytest.mark.parametrize("name", DEPTHS)
def test_weighted_depth(name):
    with nn.init.skipped():
        model = MODELS[name]()
    assert weighted_depth(model) == DEPTHS[name]


def test_counts_by_hand():
    """LeNet-5 at 28x28: conv 6x28x28 x 25, conv 16x10x10 x 150, fc 400x120, 120x84, 84x10."""
    total, layers = multiply_adds(MODELS["lenet5"](), (1, 28, 28))
    expected = [6 * 28 * 28 * 25, 16 * 10 * 10 * 6 * 25, 400 * 120, 120 * 84, 84 * 10]
    assert list(layers.values()) == expected and total == sum(expected)
    grouped = nn.Conv2d(4, 8, 3, stride=2, padding=1, groups=2, bias=False)
    assert multiply_adds(grouped, (4, 9, 9))[0] == 8 * 5 * 5 * 2 * 9
    # ResNet-20 on CIFAR: the paper's 41 million
    assert round(multiply_adds(MODELS["resnet20"](), (3, 32, 32))[0] / 1e6) == 41


def test_the_model_is_left_as_it_was(rng):
    model = MODELS["resnet20"](input_shape=(1, 28, 28))
    x = dn.tensor(rng.standard_normal((2, 1, 28, 28)).astype(np.float32))
    model.eval()
    with dn.no_grad():
        before = model(x).numpy()
    model.train()
    multiply_adds(model, (1, 28, 28))
    assert model.training and all(m.training for m in model.modules())
    assert not any("forward" in m.__dict__ for m in model.modules())
    model.eval()
    with dn.no_grad():
        np.testing.assert_array_equal(model(x).numpy(), before)


def test_layers_it_cannot_count_are_refused():
    with pytest.raises(ValueError, match="LSTM"):
        multiply_adds(nn.Sequential(nn.LSTM(4, 8)), (3, 4))
