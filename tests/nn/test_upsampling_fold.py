"""F.interpolate / nn.Upsample (nearest, nearest-exact, linear, bilinear with and without
align_corners; size and scale_factor) and F.unfold/F.fold / nn.Unfold/nn.Fold against PyTorch:
values, gradients, dtypes, finite differences, double backward, reprs and errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from tests.helpers import assert_close, check_against_torch

DTYPES = [np.float64, np.float32]

INTERPOLATE = [
    ((2, 3, 5, 4), dict(scale_factor=2)),
    ((2, 3, 5, 4), dict(size=(7, 3))),
    ((1, 2, 6, 6), dict(scale_factor=(1.5, 0.5))),
    ((1, 2, 5, 7), dict(scale_factor=1.7, recompute_scale_factor=True)),
    ((1, 2, 4, 4), dict(size=9, mode="nearest-exact")),
    ((2, 3, 5, 4), dict(scale_factor=2, mode="bilinear")),
    ((2, 3, 5, 4), dict(scale_factor=2, mode="bilinear", align_corners=True)),
    ((2, 3, 5, 4), dict(size=(3, 9), mode="bilinear")),
    ((2, 3, 5, 4), dict(size=(3, 9), mode="bilinear", align_corners=True)),
    ((1, 1, 6, 5), dict(scale_factor=0.6, mode="bilinear")),       # downsampling
    ((1, 1, 3, 3), dict(size=(1, 1), mode="bilinear", align_corners=True)),
    ((2, 3, 7), dict(scale_factor=2.5)),
    ((2, 3, 7), dict(size=4, mode="linear")),
    ((2, 3, 7), dict(size=11, mode="linear", align_corners=True)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kwargs", INTERPOLATE)
def test_interpolate_matches_torch(shape, kwargs, dtype, rng):
    check_against_torch(lambda x: F.interpolate(x, **kwargs),
                        lambda x: TF.interpolate(x, **kwargs), [rng.standard_normal(shape)],
                        dtype)


@pytest.mark.parametrize("kwargs", [dict(scale_factor=2), dict(size=(3, 5), mode="bilinear"),
                                    dict(scale_factor=(2, 3), mode="bilinear",
                                         align_corners=True)])
def test_upsample_layer(kwargs, rng):
    ours, theirs = nn.Upsample(**kwargs), torch.nn.Upsample(**kwargs)
    assert repr(ours) == repr(theirs)
    check_against_torch(ours, theirs, [rng.standard_normal((2, 3, 4, 4))])
    assert dn.gradcheck(ours, [rng.standard_normal((1, 2, 3, 3))])


def test_interpolate_double_backward(rng):
    x = rng.standard_normal((1, 2, 3, 4))
    results = []
    for lib, fn in ((dn, F.interpolate), (torch, TF.interpolate)):
        xt = lib.tensor(x, requires_grad=True)
        out = fn(xt, scale_factor=2, mode="bilinear")
        (g,) = lib.autograd.grad((out * out * out).sum(), (xt,), create_graph=True)
        (g * g).sum().backward()
        results.append(xt.grad)
    assert_close(*results, what="second derivative")


def test_interpolate_errors_as_torch():
    x = dn.randn(1, 1, 4, 4)
    with pytest.raises(ValueError, match="align_corners option can only be set"):
        F.interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(ValueError, match="either size or scale_factor"):
        F.interpolate(x)
    with pytest.raises(ValueError, match="only one of size or scale_factor"):
        F.interpolate(x, size=3, scale_factor=2)
    with pytest.raises(NotImplementedError, match="mode"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(dn.ShapeError, match="bilinear"):
        F.interpolate(dn.randn(1, 1, 5), scale_factor=2, mode="bilinear")
    with pytest.raises(ValueError, match="size shape must match"):
        F.interpolate(x, size=(2, 3, 4))
    with pytest.raises(ValueError, match="Upsample"):
        nn.Upsample()


UNFOLD = [
    ((2, 3, 5, 6), dict(kernel_size=3)),
    ((2, 3, 5, 6), dict(kernel_size=(2, 3), stride=2, padding=1)),
    ((1, 2, 7, 7), dict(kernel_size=2, dilation=2, padding=(1, 0), stride=(1, 2))),
    ((3, 5, 6), dict(kernel_size=2)),                                   # unbatched
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,kwargs", UNFOLD)
def test_unfold_and_fold_match_torch(shape, kwargs, dtype, rng):
    x = rng.standard_normal(shape)
    out = check_against_torch(lambda t: F.unfold(t, **kwargs), lambda t: TF.unfold(t, **kwargs),
                              [x], dtype)
    cols = rng.standard_normal(out.shape)
    check_against_torch(lambda c: F.fold(c, shape[-2:], **kwargs),
                        lambda c: TF.fold(c, shape[-2:], **kwargs), [cols], dtype)
    assert dn.gradcheck(lambda t: F.unfold(t, **kwargs), [x])
    assert dn.gradcheck(lambda c: F.fold(c, shape[-2:], **kwargs), [cols])


def test_unfold_is_the_convolution_matrix(rng):
    """conv2d(x, W) = W.view(O, -1) @ unfold(x): unfold builds the convolution's columns."""
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 3))
    cols = F.unfold(dn.tensor(x), 3, padding=1)
    out = (dn.tensor(w).reshape(4, -1) @ cols).reshape(2, 4, 6, 5)
    np.testing.assert_allclose(out.numpy(), F.conv2d(dn.tensor(x), dn.tensor(w), padding=1)
                               .numpy(), rtol=1e-10)


def test_fold_unfold_double_backward(rng):
    x = rng.standard_normal((1, 2, 4, 4))
    results = []
    for lib, unfold in ((dn, F.unfold), (torch, TF.unfold)):
        xt = lib.tensor(x, requires_grad=True)
        out = unfold(xt, 2, stride=1)
        (g,) = lib.autograd.grad((out * out * out).sum(), (xt,), create_graph=True)
        (g * g).sum().backward()
        results.append(xt.grad)
    assert_close(*results, what="second derivative")


def test_layers_reprs_and_errors(rng):
    for ours, theirs in ((nn.Unfold(3), torch.nn.Unfold(3)),
                         (nn.Fold((4, 5), 2, stride=1), torch.nn.Fold((4, 5), 2, stride=1))):
        assert repr(ours) == repr(theirs)
    check_against_torch(nn.Fold((4, 5), 2), torch.nn.Fold((4, 5), 2),
                        [rng.standard_normal((1, 12, 12))])
    with pytest.raises(dn.ShapeError, match="number of sliding blocks 3 \\* 4 = 12"):
        F.fold(dn.randn(1, 12, 10), (4, 5), 2)
    with pytest.raises(dn.ShapeError, match="divisible by the product of kernel_size"):
        F.fold(dn.randn(1, 5, 12), (4, 5), 2)
    with pytest.raises(dn.ShapeError, match="does not fit"):
        F.unfold(dn.randn(1, 1, 2, 2), 3)
    with pytest.raises(ValueError, match="Unfold: kernel_size"):
        nn.Unfold(0)
