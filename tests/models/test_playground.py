"""The Playground's registered network: its fixed features, its layers, and its model file."""

import numpy as np
import pytest

import deepnum as dn
import deepnum.nn as nn
from deepnum.models import build
from deepnum.models.playground import PlaygroundNet, PointFeatures


def test_point_features_compute_the_named_functions():
    x = dn.tensor([[2.0, 3.0], [-1.0, 0.5]])
    out = PointFeatures(["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin_x1", "sin_x2"])(x).numpy()
    a, b = x.numpy().T
    np.testing.assert_allclose(out, np.stack([a, b, a * a, b * b, a * b, np.sin(a), np.sin(b)], 1),
                               rtol=1e-6)
    shifted = PointFeatures(["x1", "x2"], offset=(1.0, 1.0), scale=(2.0, 0.5))(x).numpy()
    np.testing.assert_allclose(shifted, [[2.0, 1.0], [-4.0, -0.25]])


def test_bad_arguments_fail_at_construction():
    with pytest.raises(ValueError, match="PointFeatures"):
        PointFeatures(["x3"])
    with pytest.raises(ValueError, match="activations"):
        PlaygroundNet(hidden=[4, 2], activations=["tanh"])
    with pytest.raises(ValueError, match="activation"):
        PlaygroundNet(hidden=[4], activations=["swish"])
    with pytest.raises(dn.ShapeError):
        PointFeatures()(dn.zeros(3, 3))


def test_layers_and_a_round_trip_through_a_model_file(tmp_path):
    net = build("playground", features=["x1", "x2", "sin_x1"], hidden=[5, 3],
                activations=["relu", "elu"], dropout=0.1, num_outputs=3)
    kinds = [type(m).__name__ for m in net]
    # SeededDropout: nn.Dropout drawing from the network's own generator when it has one
    assert kinds == ["PointFeatures", "Linear", "ReLU", "SeededDropout", "Linear", "ELU",
                     "SeededDropout", "Linear"]
    assert isinstance(net[3], nn.Dropout)
    assert net[1].in_features == 3 and net[-1].out_features == 3
    dn.save(net, tmp_path / "net.safetensors")
    again = dn.load(tmp_path / "net.safetensors")
    assert isinstance(again, PlaygroundNet) and again.hidden == [5, 3]
    net.eval(), again.eval()
    x = dn.randn(10, 2)
    np.testing.assert_array_equal(net(x).numpy(), again(x).numpy())
    assert isinstance(again[2], nn.ReLU)
