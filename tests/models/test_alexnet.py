"""AlexNet (the lecture's 227x227 ImageNet network) and alexnet-small."""

import numpy as np
import pytest

import deepnum as dn
from deepnum.models import MODELS, build
from deepnum.models.alexnet import AlexNetSmall


def test_alexnet_parameter_count_and_shapes():
    assert {"alexnet", "alexnet-small"} <= set(MODELS)
    model = build("alexnet")
    assert model.num_parameters() == 62_378_344
    shapes = [tuple(p.shape) for p in model.parameters()]
    assert shapes[0] == (96, 3, 11, 11) and shapes[-2] == (1000, 4096)
    # the first fully connected layer holds 60% of them (9216 x 4096 x 4096 is not a count)
    assert model.classifier[2].weight.numpy().size == 9216 * 4096


@pytest.mark.slow
def test_alexnet_forward_and_backward_batch_of_two():
    model = build("alexnet", num_classes=1000)
    x = dn.randn(2, 3, 227, 227)
    assert x.dtype == np.float32
    feature_map = model.features(x)
    assert feature_map.shape == (2, 256, 6, 6)           # 6x6x256 = 9216
    out = model.classifier(model.avgpool(feature_map))
    assert out.shape == (2, 1000) and out.dtype == np.float32
    out.sum().backward()
    first, last = model.features[0].weight, model.classifier[-1].weight
    assert first.grad is not None and first.grad.dtype == np.float32
    assert np.isfinite(first.grad.numpy()).all() and np.abs(first.grad.numpy()).sum() > 0
    assert last.grad.shape == (1000, 4096)


def test_alexnet_arguments():
    with pytest.raises(ValueError, match="dropout"):
        build("alexnet", dropout=1.0)
    with pytest.raises(ValueError, match="input_shape"):
        build("alexnet", input_shape=(227, 227))
    assert build("alexnet-small", input_shape=(3, 28, 28)).features[0].in_channels == 3


def test_alexnet_small_trains_on_28x28():
    model = build("alexnet-small", num_classes=10)
    assert isinstance(model, AlexNetSmall)
    assert model.num_parameters() < 300_000
    x = dn.randn(8, 1, 28, 28)
    out = model(x)
    assert out.shape == (8, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.eval()
    with dn.no_grad():  # dropout is off in eval: the output is deterministic
        np.testing.assert_array_equal(model(x).numpy(), model(x).numpy())
    with pytest.raises(ValueError, match="channels"):
        AlexNetSmall(channels=(8, 8))
