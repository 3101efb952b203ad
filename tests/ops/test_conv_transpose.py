"""conv_transpose2d/1d against PyTorch (values; input, weight and bias gradients) on the reference
path, the speed wing and its kernels; central differences; and the double backward (a gradient
penalty through conv2d and conv_transpose2d, each the other's input gradient)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnum as dn
import deepnum.nn.functional as F
from deepnum import fast
from tests.helpers import assert_close, check_against_torch


@pytest.fixture(autouse=True)
def _kernels_from_batch_one(monkeypatch):
    """The kernels start at batch 48 (below, NumPy is faster); these tests use small batches."""
    monkeypatch.setattr(fast, "KERNEL_MIN_BATCH", 1)


# (input shape, weight shape, options)
CASES = [
    ((2, 4, 5, 6), (4, 3, 3, 3), dict()),
    ((2, 4, 5, 6), (4, 3, 3, 2), dict(stride=2, padding=1, output_padding=1)),
    ((1, 6, 4, 5), (6, 2, 3, 3), dict(stride=(2, 3), padding=(1, 2), output_padding=(1, 0),
                                      groups=3, dilation=(1, 2))),
    ((2, 2, 3, 3), (2, 2, 4, 4), dict(dilation=3, output_padding=2)),  # output_padding >= stride
    ((2, 4, 3, 3), (4, 2, 4, 4), dict(stride=2, padding=1, groups=2)),   # DCGAN's upsampling
    ((3, 3, 1, 1), (3, 5, 4, 4), dict()),                                # DCGAN's first layer
    ((1, 2, 4, 4), (2, 1, 3, 3), dict(stride=3, padding=2)),             # padding crops taps
]


def _data(case, rng):
    x_shape, w_shape, options = case
    out_channels = w_shape[1] * options.get("groups", 1)
    return [rng.standard_normal(x_shape), rng.standard_normal(w_shape),
            rng.standard_normal(out_channels)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_conv_transpose2d_matches_torch(case, dtype, rng, kernels):
    options = case[2]
    x, w, b = _data(case, rng)
    check_against_torch(lambda x, w, b: F.conv_transpose2d(x, w, b, **options),
                        lambda x, w, b: TF.conv_transpose2d(x, w, b, **options), [x, w, b], dtype)
    check_against_torch(lambda x, w: F.conv_transpose2d(x, w, **options),
                        lambda x, w: TF.conv_transpose2d(x, w, **options), [x, w], dtype)


def test_conv_transpose2d_gradcheck(rng, kernels):
    for case in (CASES[1], CASES[2], CASES[3]):
        options = case[2]
        assert dn.gradcheck(lambda x, w, b, o=options: F.conv_transpose2d(x, w, b, **o),
                            _data(case, rng))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("options", [dict(), dict(stride=2, padding=1, output_padding=1),
                                     dict(stride=3, dilation=2, groups=2, output_padding=1)])
def test_conv_transpose1d_matches_torch(options, dtype, rng, kernels):
    x, w, b = rng.standard_normal((3, 4, 9)), rng.standard_normal((4, 3, 3)), \
        rng.standard_normal(3 * options.get("groups", 1))
    check_against_torch(lambda x, w, b: F.conv_transpose1d(x, w, b, **options),
                        lambda x, w, b: TF.conv_transpose1d(x, w, b, **options), [x, w, b], dtype)


def test_unbatched_input(rng, kernels):
    x, w, b = _data(CASES[1], rng)
    check_against_torch(lambda x, w, b: F.conv_transpose2d(x, w, b, 2, 1, 1),
                        lambda x, w, b: TF.conv_transpose2d(x, w, b, 2, 1, 1), [x[0], w, b])


def test_only_needed_gradients(rng, kernels):
    """Noise into a generator needs no gradient: only the weight's is computed."""
    x, w, _ = (a.astype(np.float32) for a in _data(CASES[5], rng))
    xt, wt = dn.tensor(x), dn.tensor(w, requires_grad=True)
    F.conv_transpose2d(xt, wt).sum().backward()
    assert xt.grad is None and wt.grad.dtype == np.float32 and wt.grad.shape == w.shape


def test_errors_in_torch_words(rng):
    x = dn.randn(2, 3, 5, 5)
    with pytest.raises(dn.ShapeError, match="expects 4 input channels"):
        F.conv_transpose2d(x, dn.randn(4, 2, 3, 3))
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride"):
        F.conv_transpose2d(x, dn.randn(3, 2, 3, 3), output_padding=1)
    with pytest.raises(dn.ShapeError, match="groups=2"):
        F.conv_transpose2d(x, dn.randn(3, 2, 3, 3), groups=2)
    with pytest.raises(ValueError, match="padding must be an int"):
        F.conv_transpose2d(x, dn.randn(3, 2, 3, 3), padding="same")
    with pytest.raises(dn.ShapeError, match="output of size"):
        F.conv_transpose2d(x, dn.randn(3, 2, 1, 1), padding=3)
    for fn in (F.conv_transpose2d, TF.conv_transpose2d):  # both refuse a 5-D input
        with pytest.raises((dn.ShapeError, RuntimeError)):
            fn(dn.randn(1, 2, 3, 5, 5) if fn is F.conv_transpose2d else torch.randn(1, 2, 3, 5, 5),
               dn.randn(3, 2, 3, 3) if fn is F.conv_transpose2d else torch.randn(3, 2, 3, 3))


# ---------------------------------------------------------------------------- double backward
def _gradient_penalty(lib, fn, x, w, b, upstream):
    """d/d(x, w, b) of ||dL/dx||^2 + ||dL/dw||^2 + <dL/dx, x>, with L = <upstream, fn(x, w, b)>:
    the shape of a WGAN-GP critic's penalty, through every part of the op's vjp."""
    out = fn(x, w, b)
    loss = (out * lib.tensor(upstream)).sum()
    gx, gw, gb = (dn.autograd if lib is dn else torch.autograd).grad(loss, (x, w, b),
                                                                     create_graph=True)
    penalty = (gx * gx).sum() + (gw * gw).sum() + (gb * gb).sum() + (gx * x).sum()
    penalty.backward()
    return penalty, x.grad, w.grad


DOUBLE = [
    (False, ((2, 4, 7, 6), (3, 4, 3, 3), dict(stride=2, padding=1))),
    (False, ((2, 4, 8, 7), (6, 2, 3, 2), dict(stride=(2, 1), padding=(1, 0), dilation=(1, 2),
                                              groups=2))),
    (True, CASES[1]),
    (True, CASES[2]),
    (True, CASES[3]),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("transposed,case", DOUBLE)
def test_double_backward_matches_torch(transposed, case, dtype, rng, kernels):
    x_shape, w_shape, options = case
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    b = rng.standard_normal(w_shape[1] * options.get("groups", 1) if transposed else w_shape[0])
    ours = (F.conv_transpose2d if transposed else F.conv2d)
    theirs = (TF.conv_transpose2d if transposed else TF.conv2d)
    out_shape = theirs(torch.tensor(x), torch.tensor(w), torch.tensor(b), **options).shape
    upstream = rng.standard_normal(tuple(out_shape)).astype(dtype)
    results = []
    for lib, fn in ((dn, ours), (torch, theirs)):
        leaves = [lib.tensor(a.astype(dtype), requires_grad=True) for a in (x, w, b)]
        results.append(_gradient_penalty(lib, lambda *t, f=fn: f(*t, **options), *leaves,
                                         upstream))
    for what, a, e in zip(("penalty", "x grad", "w grad"), *results):
        assert_close(a, e, dtype, what)


def test_double_backward_gradcheck(rng):
    """Finite differences of the first gradient itself (the penalty's second derivative)."""
    x, w, b = _data(CASES[1], rng)

    def input_gradient(x, w, b):
        with dn.enable_grad():  # gradcheck evaluates fn under no_grad for the differences
            out = F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1)
            return dn.autograd.grad((out * out).sum(), (x,), create_graph=True)[0]

    assert dn.gradcheck(input_gradient, [x, w, b])

    def conv_input_gradient(x, w):
        with dn.enable_grad():
            out = F.conv2d(x, w, stride=2, padding=1)
            return dn.autograd.grad((out * out).sum(), (x,), create_graph=True)[0]

    assert dn.gradcheck(conv_input_gradient, [rng.standard_normal((2, 3, 6, 5)),
                                              rng.standard_normal((4, 3, 3, 3))])
