"""VGG: the reference parameter counts, torchvision's keys and layouts (a torch twin's state dict
loads unchanged and gives its outputs), batch norm, small images through ceil-mode pools."""

import numpy as np
import pytest
import torch

import deepnum as dn
from deepnum.models import MODELS, build
from deepnum.models.vgg import CONFIGS, VGG
from deepnum.nn.utils import skip_init
from tests.models.twins import check_twin, torch_vgg

# torchvision's counts at 1000 classes
COUNTS = {"vgg11": 132_863_336, "vgg11_bn": 132_868_840, "vgg13": 133_047_848,
          "vgg13_bn": 133_053_736, "vgg16": 138_357_544, "vgg16_bn": 138_365_992,
          "vgg19": 143_667_240, "vgg19_bn": 143_678_248}


@pytest.mark.parametrize("name", COUNTS)
def test_parameter_counts_and_depth(name):
    with dn.nn.init.skipped():  # 133-144 million weights: counted, not drawn
        model = MODELS[name]()
    assert model.num_parameters() == COUNTS[name]
    assert model.depth == int(name[3:5])
    assert ("features.1.running_mean" in model.state_dict()) == name.endswith("_bn")


@pytest.mark.parametrize("batch_norm", [False, True])
def test_a_small_vgg_matches_its_torch_twin(batch_norm, rng):
    """VGG-11's layout with 32 hidden units: features.N (batch norm at features.1) and
    classifier.0/3/6 keys, outputs, gradients and running statistics, at 32x32."""
    ours = VGG("A", batch_norm, num_classes=5, dropout=0.0, hidden=32)
    theirs = torch_vgg(CONFIGS["A"], batch_norm, num_classes=5, dropout=0.0, hidden=32)
    check_twin(ours, theirs, rng.standard_normal((2, 3, 32, 32)))


def test_vgg_layout_matches_torch_twin_keys():
    ours = skip_init(VGG, "E", batch_norm=False, num_classes=3)
    theirs = torch_vgg(CONFIGS["E"], False, num_classes=3)
    mine = {k: tuple(v.shape) for k, v in ours.state_dict().items()}
    assert mine == {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert mine["features.0.weight"] == (64, 3, 3, 3) and mine["classifier.6.weight"] == (3, 4096)


def test_initialisation_is_torchvisions():
    dn.manual_seed(0)
    model = VGG("A", num_classes=10, hidden=256)
    conv = model.features[3].weight.numpy()  # 128 x 64 x 3 x 3: fan-out 128 * 9
    assert abs(conv.std() / np.sqrt(2 / (128 * 9)) - 1) < 0.02
    assert np.all(model.features[3].bias.numpy() == 0)
    fc = model.classifier[0].weight.numpy()
    assert abs(fc.std() / 0.01 - 1) < 0.01 and np.all(model.classifier[0].bias.numpy() == 0)


def test_small_images_pool_with_ceil_mode(rng):
    """28x28 is not divisible by 32: the builder rounds the pools up (28 -> 14 -> 7 -> 4 -> 2 ->
    1), as torch does with ceil_mode=True; at 224x224 (or 32x32) nothing changes."""
    with dn.nn.init.skipped():
        small = build("vgg11_bn", input_shape=(1, 28, 28), num_classes=10)
        large = build("vgg11_bn", input_shape=(3, 64, 64))
    pools = [m for m in small.features if isinstance(m, dn.nn.MaxPool2d)]
    assert len(pools) == 5 and all(p.ceil_mode for p in pools)
    assert not any(getattr(m, "ceil_mode", False) for m in large.features)
    x = rng.standard_normal((2, 1, 28, 28)).astype(np.float32)
    feature_map = torch.tensor(x)
    for p in pools:  # the sizes torch gives with the same pools
        feature_map = torch.nn.functional.max_pool2d(feature_map, p.kernel_size, p.stride,
                                                     ceil_mode=p.ceil_mode)
    assert feature_map.shape[-2:] == (1, 1)
    small = VGG("A", True, num_classes=10, in_channels=1, ceil_mode=True, hidden=16)
    with dn.no_grad():
        assert small.features(dn.tensor(x)).shape == (2, 512, 1, 1)
    out = small(dn.tensor(x))
    out.sum().backward()
    assert out.shape == (2, 10) and small.features[0].weight.grad is not None


@pytest.mark.parametrize("make,match", [
    (lambda: VGG("F"), "config"),
    (lambda: VGG("A", dropout=1.5), "dropout"),
    (lambda: VGG("A", num_classes=0), "num_classes"),
    (lambda: VGG("A", hidden=0), "hidden"),
    (lambda: build("vgg16", input_shape=(28, 28)), "input_shape"),
])
def test_bad_options_fail_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_save_and_load(tmp_path, rng):
    model = VGG("A", True, num_classes=10, in_channels=1, dropout=0.3, ceil_mode=True,
                hidden=16)
    model.eval()
    dn.save(model, tmp_path / "vgg.safetensors")
    loaded = dn.load(tmp_path / "vgg.safetensors")
    assert loaded.features[3].ceil_mode and loaded.classifier[2].p == 0.3
    x = dn.tensor(rng.standard_normal((1, 1, 28, 28)).astype(np.float32))
    loaded.eval()
    with dn.no_grad():
        np.testing.assert_array_equal(loaded(x).numpy(), model(x).numpy())
