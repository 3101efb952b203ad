"""Linear, Identity, Flatten, Dropout and nn.init against PyTorch's formulas and defaults."""

import math

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, copy_module_weights

DTYPES = [np.float64, np.float32]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_linear_against_torch(bias, dtype, rng):
    ours = nn.Linear(4, 3, bias=bias, dtype=dtype)
    theirs = torch.nn.Linear(4, 3, bias=bias, dtype=torch.float64 if dtype == np.float64
                             else torch.float32)
    copy_module_weights(ours, theirs)
    x = rng.standard_normal((5, 2, 4)).astype(dtype)
    xo, xt = dn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, ref = ours(xo), theirs(xt)
    assert_close(out, ref, dtype)
    w = rng.standard_normal(out.shape).astype(dtype)
    (out * dn.tensor(w)).sum().backward()
    (ref * torch.tensor(w)).sum().backward()
    assert_close(xo.grad, xt.grad, dtype)
    for (name, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert p.grad.dtype == dtype, name
        assert_close(p.grad, q.grad, dtype, name)


def test_linear_gradcheck_on_module(rng):
    assert dn.gradcheck(nn.Linear(3, 2), [rng.standard_normal((4, 3))])


def test_linear_default_init_is_torchs(rng):
    layer = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)  # kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert w.shape == (300, 400) and w.dtype == np.float32
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.99 * bound
    assert np.abs(b).max() <= bound
    np.testing.assert_allclose(w.var(), bound**2 / 3, rtol=0.02)  # uniform's variance
    ref = torch.nn.Linear(400, 300).weight.detach().numpy()
    np.testing.assert_allclose(w.var(), ref.var(), rtol=0.03)


@pytest.mark.parametrize("name,kwargs,std", [
    ("xavier_uniform_", {}, math.sqrt(2 / (200 + 300))),
    ("xavier_normal_", {"gain": 2.0}, 2 * math.sqrt(2 / (200 + 300))),
    ("kaiming_uniform_", {"nonlinearity": "relu"}, math.sqrt(2 / 300)),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, math.sqrt(2 / 200)),
    ("kaiming_normal_", {"a": 0.1}, math.sqrt(2 / (1 + 0.01) / 300)),
    ("normal_", {"mean": 0.0, "std": 0.3}, 0.3),
    ("uniform_", {"a": -1.0, "b": 1.0}, math.sqrt(1 / 3)),
])
def test_init_distributions(name, kwargs, std):
    w = nn.Parameter(np.zeros((200, 300), dtype=np.float32))
    getattr(nn.init, name)(w, **kwargs)
    ref = torch.empty(200, 300)
    getattr(torch.nn.init, name)(ref, **kwargs)
    np.testing.assert_allclose(w.numpy().std(), std, rtol=0.02)
    np.testing.assert_allclose(w.numpy().std(), ref.std().item(), rtol=0.03)
    if "uniform" in name:
        assert np.abs(w.numpy()).max() <= np.abs(ref.numpy()).max() * 1.01


def test_calculate_gain_matches_torch():
    for name in ("linear", "sigmoid", "tanh", "relu", "selu", "conv2d"):
        assert nn.init.calculate_gain(name) == pytest.approx(torch.nn.init.calculate_gain(name))
    assert nn.init.calculate_gain("leaky_relu", 0.2) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.2))


def test_invalid_sizes_raise_at_construction():
    with pytest.raises(ValueError, match="Linear: in_features must be a positive integer, got -1"):
        nn.Linear(-1, 3)
    with pytest.raises(ValueError, match="Linear: out_features .* got 0"):
        nn.Linear(3, 0)
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\), got 1"):
        nn.Dropout(1)
    with pytest.raises(ValueError, match=r"Dropout: p must be in \[0, 1\), got -0.1"):
        nn.Dropout(-0.1)
    with pytest.raises(dn.ShapeError, match=r"Linear\(in_features=3.*\(\*, 3\).*\(2, 4\)"):
        nn.Linear(3, 2)(dn.ones(2, 4))


def test_identity_and_flatten():
    x = dn.randn(2, 3, 4, 5)
    assert nn.Identity()(x) is x
    assert nn.Flatten()(x).shape == (2, 60) and nn.Flatten(0, 1)(x).shape == (6, 4, 5)
    assert torch.nn.Flatten(0, 1)(torch.zeros(2, 3, 4, 5)).shape == (6, 4, 5)


# ---------------------------------------------------------------------------- dropout
def test_dropout_eval_is_identity_and_train_scales_kept_units():
    drop, x = nn.Dropout(0.25), dn.ones(1000)
    y = drop(x).numpy()
    assert set(np.unique(y)) <= {0.0, np.float32(1 / 0.75)}
    assert 0.2 < (y == 0).mean() < 0.3
    drop.eval()
    assert drop(x) is x


def test_inverted_dropout_equals_lecture_dropout_in_expectation(rng):
    """Mean over many masks of the training output = the eval output (same weights)."""
    p = 0.4
    net = nn.Sequential(nn.Dropout(p), nn.Linear(6, 3, dtype=np.float64))
    x = dn.tensor(rng.standard_normal((2, 6)))
    outs = np.stack([net(x).numpy() for _ in range(4000)])
    net.eval()
    expected = net(x).numpy()
    spread = outs.std(0) / np.sqrt(len(outs))
    assert np.all(np.abs(outs.mean(0) - expected) < 4 * spread + 1e-12)


def test_inverted_dropout_equals_test_time_weight_scaling(rng):
    """The lecture: train with plain masks, test with W_test = (1-p) W_train. Inverted dropout
    trains W = (1-p) W_train with masks scaled by 1/(1-p): the two agree at train and test time."""
    p = 0.3
    x = rng.standard_normal((5, 6))
    inverted = nn.Sequential(nn.Dropout(p), nn.Linear(6, 4, dtype=np.float64))
    w, b = inverted[1].weight.numpy().copy(), inverted[1].bias.numpy().copy()
    w_train = w / (1 - p)  # the lecture's network keeps unscaled activations, so bigger weights
    dn.manual_seed(7)
    train_out = inverted(dn.tensor(x)).numpy()
    dn.manual_seed(7)
    mask = F.dropout(dn.tensor(np.ones_like(x)), p).numpy() != 0  # the very same mask
    lecture_train = (x * mask) @ w_train.T + b
    np.testing.assert_allclose(train_out, lecture_train, rtol=1e-12)
    inverted.eval()
    lecture_test = x @ ((1 - p) * w_train).T + b  # W_test = (1-p) W_train
    np.testing.assert_allclose(inverted(dn.tensor(x)).numpy(), lecture_test, rtol=1e-12)


def test_dropout_gradient_uses_the_mask(rng):
    assert dn.gradcheck(nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5)),
                        [rng.standard_normal((6, 4))])
