"""ResNet: the reference parameter counts, torchvision's keys and layouts (a torch twin's state dict
loads unchanged and gives its outputs and gradients), the CIFAR-style networks, the options."""

import numpy as np
import pytest
import torch

import deepnum as dn
from deepnum.models import MODELS, build
from deepnum.models.resnet import BasicBlock, Bottleneck, CifarResNet, ResNet, ZeroPadShortcut
from deepnum.nn.utils import skip_init
from tests.helpers import check_against_torch
from tests.models.twins import (
    TorchBasicBlock,
    TorchBottleneck,
    TorchCifarResNet,
    TorchResNet,
    check_twin,
)

# torchvision's counts at 1000 classes; the CIFAR ones are He et al.'s 0.27M / 0.46M / 0.85M
COUNTS = {"resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
          "resnet101": 44_549_160, "resnet152": 60_192_808,
          "resnet20": 269_722, "resnet32": 464_154, "resnet56": 853_018}
DEPTHS = {"resnet18": 18, "resnet34": 34, "resnet50": 50, "resnet101": 101, "resnet152": 152,
          "resnet20": 20, "resnet32": 32, "resnet56": 56}


@pytest.mark.parametrize("name", COUNTS)
def test_parameter_counts_and_depth(name):
    classes = 10 if name in ("resnet20", "resnet32", "resnet56") else 1000
    with dn.nn.init.skipped():  # the count does not need the weights drawn
        model = MODELS[name](num_classes=classes)
    assert model.num_parameters() == COUNTS[name]
    assert model.depth == DEPTHS[name]


def test_a_basic_resnet_matches_its_torch_twin(rng):
    """ResNet-18's layout with one block per stage: keys (layer1.0.conv1.weight,
    layer2.0.downsample.0.weight...), outputs, gradients and running statistics."""
    ours = ResNet("basic", (1, 1, 1, 1), num_classes=5)
    theirs = TorchResNet(TorchBasicBlock, (1, 1, 1, 1), num_classes=5)
    assert "layer2.0.downsample.1.running_mean" in ours.state_dict()
    check_twin(ours, theirs, rng.standard_normal((2, 3, 40, 40)))


def test_a_bottleneck_resnet_matches_its_torch_twin(rng):
    ours = ResNet("bottleneck", (2, 1, 1, 1), num_classes=3, in_channels=2)
    theirs = TorchResNet(TorchBottleneck, (2, 1, 1, 1), num_classes=3, in_channels=2)
    assert "layer1.0.downsample.0.weight" in ours.state_dict()  # 64 -> 256 channels, stride 1
    check_twin(ours, theirs, rng.standard_normal((2, 2, 33, 35)))


def test_cifar_resnet_matches_its_torch_twin(rng):
    """Depth 8 (one block per stage) with the parameter-free zero-padding shortcut, on 28x28."""
    ours = CifarResNet(8, num_classes=10, in_channels=1)
    theirs = TorchCifarResNet(8, num_classes=10, in_channels=1)
    check_twin(ours, theirs, rng.standard_normal((3, 1, 28, 28)))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_residual_blocks_match_torch(dtype, rng):
    """The residual addition inside a module's own forward: outputs and input gradients."""
    for ours, theirs, shape in (
            (BasicBlock(4, 4), TorchBasicBlock(4, 4), (2, 4, 6, 6)),
            (Bottleneck(8, 2), TorchBottleneck(8, 2), (2, 8, 5, 5))):
        ours = ours.double() if dtype == np.float64 else ours
        theirs = theirs.double() if dtype == np.float64 else theirs
        ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
        check_against_torch(ours, theirs, [rng.standard_normal(shape)], dtype)


def test_residual_block_gradcheck(rng):
    block = BasicBlock(3, 3).double()
    block.eval()  # batch norm as a fixed affine map: the block is a function of x alone
    x = dn.tensor(rng.standard_normal((2, 3, 5, 5)), requires_grad=True)
    assert dn.gradcheck(block, [x])
    shortcut = ZeroPadShortcut(6, 2)
    assert dn.gradcheck(shortcut, [x])
    assert shortcut(x).shape == (2, 6, 3, 3)


def test_plain_network_has_no_shortcuts(rng):
    plain = CifarResNet(20, shortcut="none")
    assert plain.num_parameters() == COUNTS["resnet20"]  # shortcut A adds no parameters either
    block = plain.layer1[0]
    assert not block.shortcut and block.downsample is None
    x = dn.tensor(rng.standard_normal((2, 16, 4, 4)).astype(np.float32))
    with dn.no_grad():
        branch = block.bn2(block.conv2(block.relu(block.bn1(block.conv1(x)))))
        np.testing.assert_allclose(block(x).numpy(), np.maximum(branch.numpy(), 0))
    assert CifarResNet(20, shortcut="B").num_parameters() == 272_474  # two 1x1 projections


def test_zero_init_residual_starts_every_block_at_the_identity(rng):
    model = ResNet("bottleneck", (1, 1, 1, 1), zero_init_residual=True)
    blocks = [m for m in model.modules() if isinstance(m, Bottleneck)]
    assert all(np.all(b.bn3.weight.numpy() == 0) for b in blocks)
    assert np.all(model.layer1[0].bn1.weight.numpy() == 1)
    block = CifarResNet(8, zero_init_residual=True).layer1[0]
    assert np.all(block.bn2.weight.numpy() == 0)
    x = dn.tensor(np.abs(rng.standard_normal((2, 16, 5, 5))).astype(np.float32))
    np.testing.assert_allclose(block(x).numpy(), x.numpy())  # relu(0 + x) = x for x >= 0


def test_initialisation_is_torchvisions():
    """Convolutions He-normal in fan-out mode: std sqrt(2 / (out_channels * kh * kw)); batch norm
    gamma 1, beta 0 (statistics over a large layer)."""
    dn.manual_seed(0)
    model = ResNet("basic", (1, 1, 1, 1))
    w = model.layer4[0].conv2.weight.numpy()  # 512 x 512 x 3 x 3
    std = np.sqrt(2 / (512 * 9))
    assert abs(w.std() / std - 1) < 0.01 and abs(w.mean()) < 0.01 * std
    reference = torch.empty(512, 512, 3, 3)
    torch.nn.init.kaiming_normal_(reference, mode="fan_out", nonlinearity="relu")
    assert abs(w.std() / reference.std().item() - 1) < 0.02
    assert np.all(model.bn1.weight.numpy() == 1) and np.all(model.bn1.bias.numpy() == 0)


def test_builders_follow_the_registry_convention():
    model = build("resnet20", input_shape=(1, 28, 28), num_classes=10, hidden=(8,),
                  activation="tanh", dropout=0.2)  # the MLP options of `deepnum train`: ignored
    assert isinstance(model, CifarResNet) and model.conv1.in_channels == 1
    assert model(dn.randn(2, 1, 28, 28)).shape == (2, 10)
    model = skip_init(ResNet, "basic", (2, 2, 2, 2), num_classes=7, in_channels=1)
    assert model(dn.randn(2, 1, 28, 28)).shape == (2, 7)  # 28x28 reaches layer4 as 1x1
    assert build("resnet56", in_channels=2).conv1.in_channels == 2
    with pytest.raises(ValueError, match="input_shape"):
        build("resnet18", input_shape=(28, 28))


@pytest.mark.parametrize("make,match", [
    (lambda: ResNet("wide", (2, 2, 2, 2)), "block"),
    (lambda: ResNet("basic", (2, 2, 2)), "layers"),
    (lambda: ResNet("basic", (2, 2, 2, 2), num_classes=0), "num_classes"),
    (lambda: CifarResNet(21), "6n \\+ 2"),
    (lambda: CifarResNet(20, shortcut="C"), "shortcut"),
    (lambda: CifarResNet(20, in_channels=0), "in_channels"),
])
def test_bad_options_fail_at_construction_naming_the_model(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_save_and_load(tmp_path, rng):
    x = dn.tensor(rng.standard_normal((2, 1, 28, 28)).astype(np.float32))
    for model in (build("resnet20", input_shape=(1, 28, 28), shortcut="B"),
                  ResNet("bottleneck", (1, 1, 1, 1), num_classes=4, in_channels=1,
                         zero_init_residual=True)):
        model.eval()
        dn.save(model, tmp_path / "model.safetensors")
        loaded = dn.load(tmp_path / "model.safetensors")
        assert type(loaded) is type(model)
        assert loaded.state_dict().keys() == model.state_dict().keys()
        loaded.eval()
        with dn.no_grad():
            np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
