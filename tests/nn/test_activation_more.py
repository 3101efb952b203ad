"""The PyTorch activations beyond the lectures' (GELU, SiLU, Hardtanh, PReLU ...) against PyTorch
(values, gradients, dtypes, at the kinks too), finite differences, the registry, and
``inplace=True`` with PyTorch's semantics (same memory, version bump, errors)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, check_against_torch, copy_module_weights

DTYPES = [np.float64, np.float32]

FUNCTIONS = {
    "gelu": (F.gelu, TF.gelu),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"),
                  lambda x: TF.gelu(x, approximate="tanh")),
    "silu": (F.silu, TF.silu),
    "mish": (F.mish, TF.mish),
    "hardtanh": (F.hardtanh, TF.hardtanh),
    "hardtanh_range": (lambda x: F.hardtanh(x, -1.5, 3.0), lambda x: TF.hardtanh(x, -1.5, 3.0)),
    "relu6": (F.relu6, TF.relu6),
    "hardsigmoid": (F.hardsigmoid, TF.hardsigmoid),
    "hardswish": (F.hardswish, TF.hardswish),
    "threshold": (lambda x: F.threshold(x, 1.5, -2.0), lambda x: TF.threshold(x, 1.5, -2.0)),
    "celu": (F.celu, TF.celu),
    "celu_alpha": (lambda x: F.celu(x, 0.5), lambda x: TF.celu(x, 0.5)),
    "logsigmoid": (F.logsigmoid, TF.logsigmoid),
    "softsign": (F.softsign, TF.softsign),
    "tanhshrink": (F.tanhshrink, TF.tanhshrink),
    "softmin": (lambda x: F.softmin(x, 1), lambda x: TF.softmin(x, 1)),
    "elu": (F.elu, TF.elu),
    "selu": (F.selu, TF.selu),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2)),
}

MODULES = {
    "GELU": lambda lib: lib.GELU(approximate="tanh"),
    "SiLU": lambda lib: lib.SiLU(),
    "Mish": lambda lib: lib.Mish(),
    "Hardtanh": lambda lib: lib.Hardtanh(-2.0, 1.0),
    "ReLU6": lambda lib: lib.ReLU6(),
    "Hardsigmoid": lambda lib: lib.Hardsigmoid(),
    "Hardswish": lambda lib: lib.Hardswish(),
    "CELU": lambda lib: lib.CELU(1.5),
    "Softmin": lambda lib: lib.Softmin(dim=-1),
    "LogSigmoid": lambda lib: lib.LogSigmoid(),
    "Threshold": lambda lib: lib.Threshold(0.5, 7.0),
    "Softsign": lambda lib: lib.Softsign(),
    "Tanhshrink": lambda lib: lib.Tanhshrink(),
}


def _inputs(rng):
    """Random values and every kink: 0, +-1, +-3 (hard*), 6 (relu6), 1.5 (threshold)."""
    x = rng.standard_normal((4, 5, 3)) * 3
    x[0, :, :] = [[0.0, 1.0, -1.0], [3.0, -3.0, 6.0], [1.5, -1.5, 0.5], [25.0, -25.0, 2.0],
                  [-6.0, 4.0, -4.0]]
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_against_torch(name, dtype, rng):
    check_against_torch(*FUNCTIONS[name], [_inputs(rng)], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_against_torch(name, dtype, rng):
    ours, theirs = MODULES[name](nn), MODULES[name](torch.nn)
    assert repr(ours) == repr(theirs)
    check_against_torch(ours, theirs, [_inputs(rng)], dtype)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_function_gradcheck(name, rng):
    x = rng.standard_normal((2, 4, 3)) * 2
    for kink in (0.0, 1.0, 1.5, 3.0, 6.0):  # keep clear of every kink
        x = np.where(np.abs(np.abs(x) - kink) < 0.05, x + 0.1, x)
    assert dn.gradcheck(FUNCTIONS[name][0], [x])


def test_double_backward_of_smooth_activations(rng):
    """Composed from primitives, so their gradients can be differentiated again (as torch)."""
    x = rng.standard_normal((3, 4))
    for name in ("gelu", "gelu_tanh", "silu", "mish", "logsigmoid", "softsign", "celu"):
        ours, theirs = FUNCTIONS[name]
        results = []
        for lib, fn in ((dn, ours), (torch, theirs)):
            xt = lib.tensor(x, requires_grad=True)
            (g,) = lib.autograd.grad(fn(xt).sum(), (xt,), create_graph=True)
            (g * g).sum().backward()
            results.append(xt.grad)
        assert_close(*results, what=f"{name} second derivative")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("num_parameters,shape", [(1, (4, 3)), (3, (4, 3)), (3, (2, 3, 5, 5)),
                                                  (1, (7,))])
def test_prelu_against_torch(num_parameters, shape, dtype, rng):
    ours, theirs = nn.PReLU(num_parameters, init=0.1), torch.nn.PReLU(num_parameters, init=0.1)
    if dtype == np.float64:
        ours, theirs = ours.double(), theirs.double()
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(rng.uniform(-0.5, 0.5, num_parameters)))
    copy_module_weights(ours, theirs)
    x = rng.standard_normal(shape)
    x.reshape(-1)[0] = 0.0
    check_against_torch(ours, theirs, [x], dtype)
    assert_close(ours.weight.grad, theirs.weight.grad, dtype, "slope gradient")
    assert repr(ours) == repr(theirs) and ours.weight.dtype == dtype
    x = rng.standard_normal(shape)
    assert dn.gradcheck(nn.PReLU(num_parameters), [x + np.sign(x) * 0.05])  # off the kink


def test_prelu_channel_mismatch():
    with pytest.raises(dn.ShapeError, match="prelu"):
        nn.PReLU(3)(dn.randn(2, 4))
    with pytest.raises(dn.ShapeError, match="prelu"):  # a 1-D input has one channel
        nn.PReLU(7)(dn.randn(7))


def test_registry_builds_every_entry_with_defaults():
    for name, cls in nn.ACTIVATIONS.items():
        layer = nn.activation(name)
        assert type(layer) is cls, name
    for name in ("gelu", "silu", "mish", "hardtanh", "relu6", "prelu", "log_sigmoid", "celu",
                 "hardsigmoid", "hardswish", "softsign", "tanhshrink"):
        assert name in nn.ACTIVATIONS
    assert isinstance(nn.activation("GELU", approximate="tanh"), nn.GELU)


def test_bad_options_fail_at_construction():
    with pytest.raises(ValueError, match="GELU: approximate"):
        nn.GELU("fast")
    with pytest.raises(ValueError, match="Hardtanh: max_val"):
        nn.Hardtanh(1.0, -1.0)
    with pytest.raises(ValueError, match="PReLU: num_parameters"):
        nn.PReLU(0)
    with pytest.raises(ValueError, match="CELU: alpha"):
        nn.CELU(-1.0)


# ---------------------------------------------------------------------------- in place
IN_PLACE = {
    "relu": (lambda x: F.relu(x, inplace=True), TF.relu),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.1, inplace=True), lambda x: TF.leaky_relu(x, 0.1)),
    "elu": (lambda x: F.elu(x, inplace=True), TF.elu),
    "selu": (lambda x: F.selu(x, inplace=True), TF.selu),
    "celu": (lambda x: F.celu(x, 0.7, inplace=True), lambda x: TF.celu(x, 0.7)),
    "hardtanh": (lambda x: F.hardtanh(x, -1.0, 2.0, inplace=True),
                 lambda x: TF.hardtanh(x, -1.0, 2.0)),
    "relu6": (lambda x: F.relu6(x, inplace=True), TF.relu6),
    "threshold": (lambda x: F.threshold(x, 0.5, 3.0, inplace=True),
                  lambda x: TF.threshold(x, 0.5, 3.0)),
    "silu": (lambda x: F.silu(x, inplace=True), TF.silu),
    "mish": (lambda x: F.mish(x, inplace=True), TF.mish),
    "hardsigmoid": (lambda x: F.hardsigmoid(x, inplace=True), TF.hardsigmoid),
    "hardswish": (lambda x: F.hardswish(x, inplace=True), TF.hardswish),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_changes_the_memory_and_the_graph(name, dtype, rng):
    """y = f_(h) on a non-leaf h: y is h, h's memory (and its views') holds f(h), its version
    moves on, and the gradient through it is f's."""
    ours, theirs = IN_PLACE[name]
    x = _inputs(rng).astype(dtype)
    xd, xt = dn.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    hd, ht = xd * 1.0, xt * 1.0
    view, before = hd[0], hd._version
    out = ours(hd)
    assert out is hd and hd._version > before
    assert_close(view, theirs(ht * 1.0)[0].detach(), dtype, "the view sees the change")
    expected = theirs(ht)
    assert_close(out, expected, dtype, "forward")
    upstream = rng.standard_normal(x.shape).astype(dtype)
    (out * dn.tensor(upstream)).sum().backward()
    (expected * torch.tensor(upstream)).sum().backward()
    assert_close(xd.grad, xt.grad, dtype, "gradient")


@pytest.mark.parametrize("name", sorted(IN_PLACE))
def test_in_place_without_grad_writes_through(name, rng):
    x = _inputs(rng)
    t = dn.tensor(x.copy())
    assert IN_PLACE[name][0](t) is t
    assert_close(t, IN_PLACE[name][1](torch.tensor(x)))


def test_in_place_errors_as_pytorch():
    leaf = dn.randn(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.relu(leaf, inplace=True)
    with dn.no_grad():  # allowed without recording, as in PyTorch
        F.relu(leaf, inplace=True)
    x = dn.randn(3, requires_grad=True)
    s = x.sigmoid()           # sigmoid's backward reads its output ...
    F.relu(s, inplace=True)   # ... which this overwrites
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        s.sum().backward()
    expanded = dn.zeros(1).expand(3)
    with pytest.raises(RuntimeError, match="in-place"):
        F.leaky_relu(expanded, inplace=True)


def test_in_place_modules_and_repr():
    for make in (lambda lib: lib.ReLU(inplace=True), lambda lib: lib.LeakyReLU(0.2, True),
                 lambda lib: lib.ELU(inplace=True), lambda lib: lib.SELU(inplace=True),
                 lambda lib: lib.ReLU6(inplace=True), lambda lib: lib.Hardtanh(inplace=True),
                 lambda lib: lib.SiLU(inplace=True), lambda lib: lib.Hardswish(inplace=True),
                 lambda lib: lib.Threshold(0.1, 2.0, True)):
        ours, theirs = make(nn), make(torch.nn)
        assert repr(ours) == repr(theirs)
        x = dn.randn(2, 3) * 1.0
        assert ours(x) is x
