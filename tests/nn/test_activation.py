"""Activations (functional and modules) against PyTorch, finite differences and extreme inputs."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, check_against_torch

DTYPES = [np.float64, np.float32]

# name -> (deepnum function, torch function)
ACTIVATIONS = {
    "relu": (F.relu, TF.relu),
    "sigmoid": (F.sigmoid, torch.sigmoid),
    "tanh": (F.tanh, torch.tanh),
    "identity": (lambda x: F.identity(x) * 1, lambda x: x * 1),
    "leaky_relu": (F.leaky_relu, TF.leaky_relu),
    "leaky_relu_0.2": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
    "elu": (F.elu, TF.elu),
    "elu_alpha": (lambda x: F.elu(x, 0.5), lambda x: TF.elu(x, 0.5)),
    "selu": (F.selu, TF.selu),
    "softplus": (F.softplus, TF.softplus),
    "softplus_beta": (lambda x: F.softplus(x, beta=2.0, threshold=1.0),
                      lambda x: TF.softplus(x, beta=2.0, threshold=1.0)),
    "softmax": (lambda x: F.softmax(x, 1), lambda x: TF.softmax(x, 1)),
    "log_softmax": (lambda x: F.log_softmax(x, -1), lambda x: TF.log_softmax(x, -1)),
    "sign": (F.sign, torch.sign),
    "maxout": (lambda x: F.maxout(x, 2), lambda x: x.reshape(4, 2, 2, 3).amax(2)),
}
MODULES = {
    "ReLU": (nn.ReLU(), torch.nn.ReLU()),
    "Sigmoid": (nn.Sigmoid(), torch.nn.Sigmoid()),
    "Tanh": (nn.Tanh(), torch.nn.Tanh()),
    "Identity": (nn.Identity(), torch.nn.Identity()),
    "LeakyReLU": (nn.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)),
    "ELU": (nn.ELU(0.7), torch.nn.ELU(0.7)),
    "SELU": (nn.SELU(), torch.nn.SELU()),
    "Softplus": (nn.Softplus(beta=0.5, threshold=3.0), torch.nn.Softplus(beta=0.5, threshold=3.0)),
    "Softmax": (nn.Softmax(dim=1), torch.nn.Softmax(dim=1)),
    "LogSoftmax": (nn.LogSoftmax(dim=1), torch.nn.LogSoftmax(dim=1)),
    "Sign": (nn.Sign(), None),
    "Step": (nn.Step(), None),
}


def _inputs(rng):
    x = rng.standard_normal((4, 4, 3)) * 3
    x[0, 0, :] = [0.0, 1.5, -1.5]  # the kink of every piecewise activation, and around softplus'
    return x                         # threshold for beta=2, threshold=1 (beta x = 3, -3)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_function_against_torch(name, dtype, rng):
    check_against_torch(*ACTIVATIONS[name], [_inputs(rng)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_against_torch(name, dtype, rng):
    ours, theirs = MODULES[name]
    if theirs is None:
        theirs = torch.sign if name == "Sign" else (
            lambda t: torch.heaviside(t.detach(), torch.tensor(0.5, dtype=t.dtype)) + 0 * t)
    check_against_torch(ours, theirs, [_inputs(rng)], dtype)


@pytest.mark.parametrize("name", sorted(set(ACTIVATIONS) - {"sign"}))
def test_function_gradcheck(name, rng):
    x = rng.standard_normal((2, 4, 3))
    x = x + np.sign(x) * 0.05  # keep clear of the kinks at 0
    fn = ACTIVATIONS[name][0]
    if name == "maxout":
        fn = lambda t: F.maxout(t, 2)  # noqa: E731
    assert dn.gradcheck(fn, [x])


def test_step_and_sign_values_and_zero_gradient():
    x = dn.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    assert F.step(x).tolist() == [0.0, 0.5, 1.0]
    assert F.sign(x).tolist() == [-1.0, 0.0, 1.0]
    (F.step(x) + F.sign(x)).sum().backward()
    assert x.grad.tolist() == [0.0, 0.0, 0.0]
    for fn in (F.step, F.sign, nn.Step, nn.Sign):
        assert "gradient is 0" in fn.__doc__


def test_every_activation_documents_its_formula():
    for cls in (nn.ReLU, nn.Sigmoid, nn.Tanh, nn.LeakyReLU, nn.ELU, nn.SELU, nn.Softplus,
                nn.Maxout, nn.Softmax, nn.LogSoftmax, nn.Step, nn.Sign, nn.Identity):
        assert "=" in cls.__doc__, cls.__name__
    for fn in (F.relu, F.sigmoid, F.tanh, F.leaky_relu, F.elu, F.selu, F.softplus, F.maxout,
               F.softmax, F.log_softmax, F.step, F.sign, F.identity):
        assert "=" in fn.__doc__, fn.__name__


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "softplus_beta", "softmax",
                                  "log_softmax", "elu", "selu", "leaky_relu"])
def test_extreme_inputs_no_overflow(name, dtype):
    z = np.array([[-1000.0, -30.0, 0.0], [30.0, 1000.0, -1000.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        out = check_against_torch(*ACTIVATIONS[name], [z], dtype)
    assert np.isfinite(out.numpy()).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_maxout_layer_against_torch(dtype, rng):
    layer = nn.Maxout(3, 4, pieces=3, dtype=dtype)
    ref = torch.nn.Linear(3, 12).to(torch.float64 if dtype == np.float64 else torch.float32)
    ref.load_state_dict({"weight": torch.tensor(layer.weight.numpy()),
                         "bias": torch.tensor(layer.bias.numpy())})
    x = rng.standard_normal((5, 3)).astype(dtype)
    xt = torch.tensor(x, requires_grad=True)
    out, expected = layer(dn.tensor(x)), ref(xt).reshape(5, 4, 3).amax(-1)
    assert_close(out, expected, dtype)
    out.sum().backward()
    expected.sum().backward()
    assert_close(layer.weight.grad, ref.weight.grad, dtype)
    assert_close(layer.bias.grad, ref.bias.grad, dtype)
    assert dn.gradcheck(nn.Maxout(3, 2, pieces=2), [x])
    assert "pieces=3" in repr(layer)


def test_activation_argument_validation():
    with pytest.raises(ValueError, match="Maxout: pieces must be a positive integer, got 0"):
        nn.Maxout(3, 4, pieces=0)
    with pytest.raises(ValueError, match="Maxout: in_features .* got -1"):
        nn.Maxout(-1, 4)
    with pytest.raises(ValueError, match="Softplus: beta must be > 0, got 0"):
        nn.Softplus(beta=0)
    with pytest.raises(ValueError, match="ELU: alpha"):
        nn.ELU(alpha=-1.0)
    with pytest.raises(ValueError, match="divisible"):
        F.maxout(dn.ones(2, 5), 2)
