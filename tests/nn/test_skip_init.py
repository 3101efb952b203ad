"""trunc_normal_ and skip_init against PyTorch's semantics; Kaiming fan-out on a convolution (the
models' initialisations)."""

import math
import warnings

import numpy as np
import pytest
import torch

import deepnum as dn
from deepnum import nn


@pytest.mark.parametrize("mean,std,a,b", [(0.0, 1.0, -2.0, 2.0), (0.0, 0.01, -2.0, 2.0),
                                          (1.0, 2.0, 0.0, 1.5), (0.0, 1.0, 3.0, 4.0),
                                          (0.0, 1.0, -6.0, -5.0)])
def test_trunc_normal_matches_torchs_distribution(mean, std, a, b):
    """Within [a, b]; mean and spread those of torch's draws of the same distribution (the last
    two: far tails, where draws go through the inverse CDF)."""
    ours = nn.Parameter(dn.zeros(200, 500))
    nn.init.trunc_normal_(ours, mean, std, a, b)
    values = ours.numpy()
    assert values.dtype == np.float32 and values.min() >= a and values.max() <= b
    torch.manual_seed(0)
    theirs = torch.empty(200, 500)
    with warnings.catch_warnings():  # torch warns that its own far-tail draws may be off
        warnings.simplefilter("ignore")
        torch.nn.init.trunc_normal_(theirs, mean, std, a, b)
    spread = theirs.std().item()
    assert abs(values.mean() - theirs.mean().item()) < 0.02 * spread + 1e-4 * std
    assert abs(values.std() / spread - 1) < 0.02


def test_kaiming_normal_fan_out_on_a_convolution():
    """fan_out = out_channels * kh * kw for a (out, in, kh, kw) weight, as torch computes it."""
    ours = nn.Parameter(dn.zeros(256, 64, 3, 3))
    nn.init.kaiming_normal_(ours, mode="fan_out", nonlinearity="relu")
    expected = math.sqrt(2 / (256 * 9))
    theirs = torch.empty(256, 64, 3, 3)
    torch.nn.init.kaiming_normal_(theirs, mode="fan_out", nonlinearity="relu")
    assert abs(ours.numpy().std() / expected - 1) < 0.01
    assert abs(theirs.std().item() / expected - 1) < 0.01


def test_skip_init_builds_without_drawing():
    dn.manual_seed(0)
    before = dn.rand(3).numpy()
    dn.manual_seed(0)
    layer = nn.utils.skip_init(nn.Linear, 25088, 4096, bias=False)
    assert layer.weight.shape == (4096, 25088) and layer.bias is None
    np.testing.assert_array_equal(dn.rand(3).numpy(), before)  # no random number was drawn
    layer = nn.Linear(4, 3)
    assert np.abs(layer.weight.numpy()).max() <= 0.5  # outside, initialisers work again
    with pytest.raises(TypeError, match="Module class"):
        nn.utils.skip_init(nn.Linear(2, 2))
