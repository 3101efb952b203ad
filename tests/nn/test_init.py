"""nn.init against torch.nn.init: the deterministic initialisers element for element, the random
ones by their bounds and moments (the generators differ), gains, fans, dtypes and errors."""

import math

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
from deepnum.nn import init

DTYPES = [(np.float32, torch.float32), (np.float64, torch.float64)]


def _pair(shape, dtype=np.float32):
    torch_dtype = dict(DTYPES)[dtype]
    return nn.Parameter(dn.zeros(*shape, dtype=dtype)), torch.zeros(shape, dtype=torch_dtype)


@pytest.mark.parametrize("name, param", [
    ("linear", None), ("conv1d", None), ("conv2d", None), ("conv3d", None),
    ("conv_transpose2d", None), ("sigmoid", None), ("tanh", None), ("relu", None),
    ("leaky_relu", None), ("leaky_relu", 0.2), ("leaky_relu", 3), ("selu", None)])
def test_calculate_gain_matches_torch(name, param):
    assert init.calculate_gain(name, param) == torch.nn.init.calculate_gain(name, param)


@pytest.mark.parametrize("call", [lambda m: m.calculate_gain("leaky_relu", True),
                                  lambda m: m.calculate_gain("leaky_relu", "0.1"),
                                  lambda m: m.calculate_gain("swish")])
def test_calculate_gain_errors_match_torch(call):
    with pytest.raises(ValueError) as expected:
        call(torch.nn.init)
    with pytest.raises(ValueError) as got:
        call(init)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("shape", [(5, 3), (4, 2, 3), (8, 3, 5, 5), (2, 3, 1, 2, 2)])
def test_fans_match_torch(shape):
    ours, theirs = _pair(shape)
    assert init._calculate_fan_in_and_fan_out(ours) == \
        torch.nn.init._calculate_fan_in_and_fan_out(theirs)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init._calculate_fan_in_and_fan_out(dn.zeros(3))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, shape, kwargs", [
    ("constant_", (3, 4), dict(val=0.25)), ("ones_", (2, 3), {}), ("zeros_", (2, 3), {}),
    ("eye_", (3, 5), {}), ("eye_", (4, 2), {}), ("dirac_", (4, 4, 3), {}),
    ("dirac_", (6, 2, 3, 3), dict(groups=2)), ("dirac_", (3, 5, 3, 3, 3), {}),
    ("dirac_", (4, 6, 2, 4), dict(groups=2))], ids=str)
def test_deterministic_initialisers_match_torch_exactly(name, shape, kwargs, dtype):
    ours, theirs = _pair(shape, dtype)
    ours.array[...] = 7.0
    result = getattr(init, name)(ours, **kwargs)
    getattr(torch.nn.init, name)(theirs, **kwargs)
    assert result is ours and ours.dtype == dn.as_tensor(np.zeros(1, dtype)).dtype
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("call, message", [
    (lambda m, t: m.eye_(t(3)), "Only tensors with 2 dimensions are supported"),
    (lambda m, t: m.dirac_(t(3, 3)), "Only tensors with 3, 4, or 5 dimensions are supported"),
    (lambda m, t: m.dirac_(t(3, 3, 3), groups=2), "dim 0 must be divisible by groups"),
    (lambda m, t: m.orthogonal_(t(3)), "Only tensors with 2 or more dimensions are supported"),
    (lambda m, t: m.sparse_(t(3, 3, 3), 0.5), "Only tensors with 2 dimensions are supported"),
    (lambda m, t: m.kaiming_uniform_(t(3, 3), mode="fan_avg"),
     r"Mode fan_avg not supported, please use one of \['fan_in', 'fan_out'\]"),
    (lambda m, t: m.xavier_normal_(t(3)), "fewer than 2 dimensions"),
])
def test_errors_match_torch(call, message):
    for module, zeros in ((init, dn.zeros), (torch.nn.init, torch.zeros)):
        with pytest.raises(ValueError, match=message):
            call(module, zeros)


def _bound_of(name, shape, kwargs):
    """The bound torch's formula gives, computed with torch's own helpers."""
    fan_in, fan_out = torch.nn.init._calculate_fan_in_and_fan_out(torch.zeros(shape))
    if name.startswith("xavier"):
        return kwargs.get("gain", 1.0) * math.sqrt(6.0 / (fan_in + fan_out))
    fan = fan_in if kwargs.get("mode", "fan_in") == "fan_in" else fan_out
    gain = torch.nn.init.calculate_gain(kwargs.get("nonlinearity", "leaky_relu"),
                                        kwargs.get("a", 0))
    return gain * math.sqrt(3.0 / fan)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name, kwargs", [
    ("xavier_uniform_", {}), ("xavier_uniform_", dict(gain=2.0)),
    ("kaiming_uniform_", {}), ("kaiming_uniform_", dict(mode="fan_out", nonlinearity="relu")),
    ("kaiming_uniform_", dict(a=math.sqrt(5))), ("xavier_normal_", dict(gain=0.5)),
    ("kaiming_normal_", dict(mode="fan_out", nonlinearity="relu")),
    ("kaiming_normal_", dict(a=0.1))], ids=str)
def test_xavier_and_kaiming_have_torchs_bounds_and_moments(name, kwargs, dtype):
    shape = (300, 40, 3)
    ours, theirs = _pair(shape, dtype)
    result = getattr(init, name)(ours, **kwargs)
    getattr(torch.nn.init, name)(theirs, **kwargs)
    assert result is ours and ours.array.dtype == dtype
    bound = _bound_of(name, shape, kwargs)
    if name.endswith("uniform_"):
        assert np.abs(ours.numpy()).max() <= bound
        assert np.abs(ours.numpy()).max() > 0.99 * bound  # reaches it: 36,000 draws
    std = bound / math.sqrt(3.0)  # the standard deviation of both forms
    for values in (ours.numpy(), theirs.numpy()):
        assert abs(values.mean()) < 0.02 * std
        np.testing.assert_allclose(values.std(), std, rtol=0.02)


def test_uniform_normal_and_generators():
    t = dn.zeros(200, 200)
    init.uniform_(t, -2.0, 3.0)
    assert t.numpy().min() >= -2.0 and t.numpy().max() < 3.0
    np.testing.assert_allclose(t.numpy().mean(), 0.5, atol=0.03)
    init.normal_(t, 1.0, 0.5)
    np.testing.assert_allclose([t.numpy().mean(), t.numpy().std()], [1.0, 0.5], atol=0.01)
    a, b = dn.zeros(5, 5), dn.zeros(5, 5)
    init.kaiming_normal_(a, generator=dn.Generator().manual_seed(3))
    dn.manual_seed(3)
    init.kaiming_normal_(b, generator=dn.Generator().manual_seed(3))
    np.testing.assert_array_equal(a.numpy(), b.numpy())
    dn.manual_seed(0)
    init.uniform_(a)
    dn.manual_seed(0)
    init.uniform_(b)
    np.testing.assert_array_equal(a.numpy(), b.numpy())  # the global stream by default


@pytest.mark.parametrize("mean, std, a, b", [(0.0, 1.0, -2.0, 2.0), (0.5, 2.0, -1.0, 3.0),
                                             (0.0, 1.0, 2.0, 3.0), (0.0, 0.5, -3.0, -1.0)])
def test_trunc_normal_matches_torchs_distribution(mean, std, a, b):
    ours, theirs = _pair((200, 250), np.float64)
    init.trunc_normal_(ours, mean, std, a, b)
    torch.nn.init.trunc_normal_(theirs, mean, std, a, b)
    x, y = ours.numpy(), theirs.numpy()
    assert x.min() >= a and x.max() <= b
    np.testing.assert_allclose([x.mean(), x.std()], [y.mean(), y.std()], atol=0.02 * std)
    np.testing.assert_allclose(np.quantile(x, [0.1, 0.5, 0.9]), np.quantile(y, [0.1, 0.5, 0.9]),
                               atol=0.03 * std)


@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (8, 2, 3, 3), (5, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_orthogonal_gives_orthonormal_rows_or_columns(shape, dtype):
    w = nn.Parameter(dn.zeros(*shape, dtype=dtype))
    assert init.orthogonal_(w, gain=2.0) is w and w.array.dtype == dtype
    flat = w.numpy().reshape(shape[0], -1).astype(np.float64)
    small = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(small, 4.0 * np.eye(len(small)),
                               atol=1e-5 if dtype == np.float32 else 1e-12)
    reference = torch.nn.init.orthogonal_(torch.zeros(shape), gain=2.0).reshape(shape[0], -1)
    assert reference.shape == flat.shape


def test_sparse_zeros_each_column_like_torch():
    ours, theirs = _pair((40, 30))
    init.sparse_(ours, sparsity=0.3, std=0.05)
    torch.nn.init.sparse_(theirs, sparsity=0.3, std=0.05)
    np.testing.assert_array_equal((ours.numpy() == 0).sum(0), (theirs.numpy() == 0).sum(0))
    nonzero = ours.numpy()[ours.numpy() != 0]
    np.testing.assert_allclose(nonzero.std(), 0.05, rtol=0.1)


def test_zero_element_tensors_warn_like_torch():
    for module, zeros in ((init, dn.zeros), (torch.nn.init, torch.zeros)):
        with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
            module.kaiming_uniform_(zeros(0, 3))


def test_initialising_a_saved_tensor_is_caught_at_backward():
    # in place, like torch: a graph that saved the old values refuses to run backward
    for lib, module in ((dn, init), (torch, torch.nn.init)):
        w = lib.ones(3, requires_grad=True)
        y = (w * w).sum()
        with lib.no_grad():
            module.zeros_(w)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.backward()
    w = nn.Parameter(dn.ones(3))
    init.normal_(w)  # a leaf that requires grad may be initialised outside no_grad, as torch
    assert w.requires_grad and w.grad is None
