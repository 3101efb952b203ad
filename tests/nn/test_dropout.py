"""Dropout, Dropout1d, Dropout2d and AlphaDropout: which values are dropped and how the rest is
scaled, the statistics against PyTorch's, gradients, eval mode, inplace and the errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from deepnum.nn.dropout import ALPHA_PRIME


def _channel_masks(out, x, p):
    """Per (sample, channel): True where kept (every value scaled by 1/(1-p)), False where the
    whole channel is zero; fails if a channel is partly dropped."""
    ratio = out / x
    flat = ratio.reshape(ratio.shape[0], ratio.shape[1], -1)
    kept = np.isclose(flat, 1 / (1 - p)).all(-1)
    dropped = (flat == 0).all(-1)
    assert (kept | dropped).all(), "a channel was only partly dropped"
    return kept


@pytest.mark.parametrize("layer,shape", [(nn.Dropout2d, (40, 50, 3, 4)),
                                         (nn.Dropout1d, (40, 50, 6)), (nn.Dropout1d, (2000, 6))])
def test_channel_dropout_drops_whole_channels(layer, shape, rng):
    x = rng.uniform(1, 2, shape).astype(np.float32)
    out = layer(0.3)(dn.tensor(x)).numpy()
    if len(shape) == 2:  # unbatched (C, L)
        out, x = out[None], x[None]
    kept = _channel_masks(out, x, 0.3)
    assert 0.25 < 1 - kept.mean() < 0.35
    assert out.dtype == np.float32


def test_channel_dropout_gradient_is_the_mask(rng):
    x = dn.tensor(rng.uniform(1, 2, (8, 6, 3, 3)), requires_grad=True)
    out = F.dropout2d(x, 0.5)
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), out.numpy() / x.numpy())
    assert dn.gradcheck(lambda t: F.dropout2d(t, 0.5), [rng.standard_normal((4, 3, 2, 2))])


def test_eval_mode_and_p_zero_are_the_identity():
    x = dn.randn(4, 3, 5, 5)
    for layer in (nn.Dropout(0.5), nn.Dropout2d(0.5), nn.AlphaDropout(0.5)):
        assert layer.eval()(x) is x
    rows = x[:, :, 0]
    assert nn.Dropout1d(0.5).eval()(rows) is rows and F.dropout1d(rows, 0.0) is rows
    assert F.alpha_dropout(x, 0.5) is x  # PyTorch's default for the function: training=False
    assert F.dropout2d(x, 0.0) is x and F.dropout(x, 0.5, training=False) is x


def test_alpha_dropout_keeps_mean_and_variance_like_torch(rng):
    """Standard-normal inputs keep mean 0 and variance 1 (torch's alpha_dropout gives the same
    statistics); dropped values all equal a (-alpha') + b, kept ones a x + b."""
    p = 0.2
    x = rng.standard_normal(200_000)
    ours = F.alpha_dropout(dn.tensor(x), p, training=True).numpy()
    theirs = TF.alpha_dropout(torch.tensor(x), p, training=True).numpy()
    for values in (ours, theirs):
        assert abs(values.mean()) < 0.01 and abs(values.std() - 1) < 0.01
    a = 1 / np.sqrt((ALPHA_PRIME**2 * p + 1) * (1 - p))
    b = a * ALPHA_PRIME * p
    dropped = np.isclose(ours, -a * ALPHA_PRIME + b)
    assert 0.19 < dropped.mean() < 0.21
    np.testing.assert_allclose(ours[~dropped], a * x[~dropped] + b)
    assert np.isclose(ALPHA_PRIME, 1.7580993408473766)  # the constant in PyTorch's kernel


def test_alpha_dropout_gradient(rng):
    x = dn.tensor(rng.standard_normal((50, 4)), requires_grad=True)
    out = nn.AlphaDropout(0.3)(x)
    out.sum().backward()
    a = 1 / np.sqrt((ALPHA_PRIME**2 * 0.3 + 1) * 0.7)
    assert set(np.round(np.unique(x.grad.numpy()), 9)) <= {0.0, round(a, 9)}
    assert dn.gradcheck(nn.AlphaDropout(0.3), [rng.standard_normal((6, 4))])


@pytest.mark.parametrize("make", [lambda lib: lib.Dropout(0.3, inplace=True),
                                  lambda lib: lib.Dropout2d(0.3, inplace=True),
                                  lambda lib: lib.AlphaDropout(0.3, inplace=True)])
def test_in_place_dropout(make, rng):
    ours = make(nn)
    assert repr(ours) == repr(make(torch.nn))
    x = dn.tensor(rng.uniform(1, 2, (6, 4, 3, 3)), requires_grad=True)
    h = x * 1.0
    version = h._version
    out = ours(h)
    assert out is h and h._version > version
    out.sum().backward()
    assert np.isfinite(x.grad.numpy()).all() and (x.grad.numpy() == 0).any()


def test_reprs_and_errors():
    for cls in ("Dropout", "Dropout1d", "Dropout2d", "AlphaDropout"):
        assert repr(getattr(nn, cls)(0.2)) == repr(getattr(torch.nn, cls)(0.2))
        with pytest.raises(ValueError, match=f"{cls}: p must be in"):
            getattr(nn, cls)(1.5)
    with pytest.raises(dn.ShapeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(dn.randn(2, 3, 4, 5))
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        F.dropout2d(dn.randn(2, 3, 4))
