"""Elementwise ops against PyTorch (values, gradients, float64 and float32) and gradcheck."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import deepnum as dn
from tests.helpers import assert_close, check_against_torch, raises_both

DTYPES = [np.float64, np.float32]
POSITIVE = {"log", "sqrt"}

# name -> (deepnum fn, torch fn); both take tensors of the same values
UNARY = {
    "neg": (lambda x: -x, lambda x: -x),
    "exp": (lambda x: x.exp(), lambda x: x.exp()),
    "log": (lambda x: x.log(), lambda x: x.log()),
    "sqrt": (lambda x: x.sqrt(), lambda x: x.sqrt()),
    "abs": (lambda x: x.abs(), lambda x: x.abs()),
    "clip": (lambda x: x.clip(-0.5, 0.7), lambda x: x.clamp(-0.5, 0.7)),
    "clip_min": (lambda x: dn.clamp(x, min=0.1), lambda x: x.clamp(min=0.1)),
    "pow_scalar": (lambda x: x**3, lambda x: x**3),
    "pow_half": (lambda x: (x * x + 1) ** 0.5, lambda x: (x * x + 1) ** 0.5),
    "rpow": (lambda x: 2.0**x, lambda x: 2.0**x),
    "rsub": (lambda x: 1 - x, lambda x: 1 - x),
    "rdiv": (lambda x: 1 / (x * x + 1), lambda x: 1 / (x * x + 1)),
    "relu": (lambda x: x.relu(), lambda x: x.relu()),
    "sigmoid": (lambda x: x.sigmoid(), lambda x: x.sigmoid()),
    "tanh": (lambda x: x.tanh(), lambda x: x.tanh()),
    "maximum": (lambda x: dn.maximum(x, x * 0.5), lambda x: torch.maximum(x, x * 0.5)),
    "minimum": (lambda x: dn.minimum(x, x * 0.5), lambda x: torch.minimum(x, x * 0.5)),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_against_torch(name, dtype, rng):
    x = rng.standard_normal((3, 4))
    if name in POSITIVE:
        x = np.abs(x) + 0.1
    ours, theirs = UNARY[name]
    check_against_torch(ours, theirs, [x], dtype)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_gradcheck(name, rng):
    x = rng.standard_normal((2, 3))
    x = np.abs(x) + 0.1 if name in POSITIVE else x + np.sign(x) * 0.05  # keep off kinks at 0
    if name == "clip":
        x = np.where(np.abs(x + 0.5) < 0.05, x + 0.1, x)
        x = np.where(np.abs(x - 0.7) < 0.05, x + 0.1, x)
    assert dn.gradcheck(UNARY[name][0], [dn.tensor(x)])


def test_kinks_follow_torch_conventions():
    """At kinks: relu'(0)=0, |x|'(0)=0, clip passes the gradient at its bounds, max ties split."""
    x = np.array([0.0, -1.0, 1.0, 2.0])
    check_against_torch(lambda t: t.relu(), torch.relu, [x])
    check_against_torch(lambda t: t.abs(), torch.abs, [x])
    check_against_torch(lambda t: t.clip(-1.0, 1.0), lambda t: t.clamp(-1.0, 1.0), [x])
    check_against_torch(lambda t: dn.maximum(t, dn.tensor(np.ones(4))),
                        lambda t: torch.maximum(t, torch.ones(4, dtype=t.dtype)), [x])


@pytest.mark.parametrize("dtype", DTYPES)
def test_pow_tensor_exponent_and_zero_base(dtype):
    a, b = np.array([0.0, 1.5, 2.0, 0.5]), np.array([2.0, 0.5, -1.0, 3.0])
    check_against_torch(lambda x, y: x**y, lambda x, y: x**y, [a, b], dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_where_against_torch(dtype, rng):
    cond = rng.standard_normal((3, 1)) > 0
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    check_against_torch(lambda x, y: dn.where(cond, x, y),
                        lambda x, y: torch.where(torch.tensor(cond), x, y), [a, b], dtype)


def test_comparisons_give_bool_without_grad():
    x = dn.tensor([1.0, 2.0, 3.0], requires_grad=True)
    for result in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert result.dtype == np.bool_ and not result.requires_grad
    assert (x > 1.5).tolist() == [False, True, True]


def test_extreme_inputs_stay_finite_without_warnings():
    big = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        for name in ("sigmoid", "tanh"):
            for dtype in DTYPES:
                x = dn.tensor(big.astype(dtype), requires_grad=True)
                y = getattr(x, name)()
                y.sum().backward()
                ref = getattr(torch, name)(torch.tensor(big.astype(dtype)))
                assert_close(y, ref, dtype)
                assert np.isfinite(x.grad.numpy()).all()


# ---------------------------------------------------------------------------- broadcasting
@st.composite
def broadcast_pair(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4))
    pair = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, base_shape=shape, max_side=4))
    return pair.input_shapes


OPS = {
    "+": (lambda x, y: x + y, lambda x, y: x + y),
    "-": (lambda x, y: x - y, lambda x, y: x - y),
    "*": (lambda x, y: x * y, lambda x, y: x * y),
    "/": (lambda x, y: x / (y * y + 0.5), lambda x, y: x / (y * y + 0.5)),
    "where": (lambda x, y: dn.where(x.data > 0, x, y), lambda x, y: torch.where(x > 0, x, y)),
}


@settings(max_examples=50, deadline=None)
@given(shapes=broadcast_pair(), op=st.sampled_from(sorted(OPS)), seed=st.integers(0, 2**16))
def test_broadcasting_property(shapes, op, seed):
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    check_against_torch(*OPS[op], [a, b], np.float64)


def test_scalar_operands_keep_dtype():
    x = dn.tensor(np.ones(3, dtype=np.float32), requires_grad=True)
    for y in (x + 1, 2 * x, x / 3, 1 - x, x**2, 2.0**x):
        assert y.dtype == np.float32


@pytest.mark.parametrize("op", sorted(OPS) + ["pow"])
def test_binary_gradcheck(op, rng):
    a, b = rng.standard_normal((3, 1, 4)), rng.standard_normal((2, 1))
    fn = OPS[op][0] if op != "pow" else (lambda x, y: (x * x + 1) ** y)
    assert dn.gradcheck(fn, [a, b])


def test_relu_keeps_its_output_for_backward_as_torch():
    """ReLU's backward reads y (y > 0 where x > 0), so writing y in place before backward is
    the error PyTorch raises."""
    def modified(m):
        x = m.tensor([1.0, -2.0, 3.0], requires_grad=True)
        y = m.relu(x)
        y.mul_(2)
        y.sum().backward()

    raises_both(modified, "modified by an inplace operation")

    x = dn.tensor([float("nan"), -1.0, 0.0, 2.0], requires_grad=True)
    dn.relu(x).sum().backward()  # torch passes the gradient at NaN (README: Coming from PyTorch)
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0, 0.0, 1.0])
