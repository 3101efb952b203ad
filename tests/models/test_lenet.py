"""LeNet-5: the registry builds it, 61,706 parameters, shapes, PyTorch equivalence, learning."""

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
from deepnum.models import MODELS, build
from deepnum.models.lenet import LeNet5
from tests.helpers import assert_close


def test_registered_with_exact_parameter_count():
    assert "lenet5" in MODELS
    model = build("lenet5", num_classes=10)
    assert model.num_parameters() == 61_706
    assert build("lenet5", activation="tanh", pooling="avg").num_parameters() == 61_706
    assert build("lenet5", input_shape=(1, 28, 28)).num_parameters() == 61_706
    # 32x32 (the 1998 input) gives a 6x6 map after the second pool
    assert build("lenet5", input_shape=(3, 32, 32)).classifier[1].in_features == 16 * 6 * 6


def test_forward_shapes_and_dtype():
    model = build("lenet5", num_classes=7)
    out = model(dn.randn(5, 1, 28, 28))
    assert out.shape == (5, 7) and out.dtype == np.float32


@pytest.mark.parametrize("activation,pooling", [("relu", "max"), ("tanh", "avg")])
def test_matches_torch_forward_and_gradients(activation, pooling, rng):
    ours = LeNet5(activation=activation, pooling=pooling).double()
    act = torch.nn.ReLU if activation == "relu" else torch.nn.Tanh
    pool = torch.nn.MaxPool2d if pooling == "max" else torch.nn.AvgPool2d
    theirs = torch.nn.Sequential(
        torch.nn.Conv2d(1, 6, 5, padding=2), act(), pool(2), torch.nn.Conv2d(6, 16, 5), act(),
        pool(2), torch.nn.Flatten(), torch.nn.Linear(400, 120), act(), torch.nn.Linear(120, 84),
        act(), torch.nn.Linear(84, 10)).double()
    with torch.no_grad():
        for p, q in zip(theirs.parameters(), ours.parameters(), strict=True):
            p.copy_(torch.from_numpy(q.numpy()))
    x = rng.standard_normal((3, 1, 28, 28))
    y = np.array([1, 4, 9])
    loss = nn.CrossEntropyLoss()(ours(dn.tensor(x)), dn.tensor(y))
    ref = torch.nn.CrossEntropyLoss()(theirs(torch.tensor(x)), torch.tensor(y))
    assert_close(loss, ref)
    loss.backward()
    ref.backward()
    for q, p in zip(ours.parameters(), theirs.parameters(), strict=True):
        assert_close(q.grad, p.grad, what="parameter gradient")


def test_bad_arguments():
    with pytest.raises(ValueError, match="activation"):
        LeNet5(activation="no-such-activation")  # (gelu is known since issue 14)
    with pytest.raises(ValueError, match="pooling"):
        LeNet5(pooling="min")
    with pytest.raises(ValueError, match="input_size"):
        LeNet5(input_size=8)
    with pytest.raises(dn.ShapeError, match=r"Conv2d\(1, 6.*in_channels=1.*\(2, 3, 28, 28\)"):
        build("lenet5")(dn.randn(2, 3, 28, 28))


def test_learns_a_small_problem():
    """A few SGD steps on two separable image classes drive the loss well down."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32) * 0.1
    y = np.arange(64) % 2
    x[y == 1, :, 8:20, 8:20] += 1.0  # class 1 has a bright square
    model = build("lenet5", num_classes=2)
    opt = dn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    losses = []
    for _ in range(30):
        opt.zero_grad()
        loss = loss_fn(model(dn.tensor(x)), dn.tensor(y))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]
    model.eval()
    with dn.no_grad():
        assert (model(dn.tensor(x)).numpy().argmax(1) == y).mean() == 1.0
