"""Pooling layers against PyTorch, and their argument checks."""

import numpy as np
import pytest
import torch

import deepnum as dn
import deepnum.nn as nn
from tests.helpers import assert_close, check_against_torch


@pytest.mark.parametrize("ours,theirs", [
    (nn.MaxPool2d(2), torch.nn.MaxPool2d(2)),
    (nn.MaxPool2d(3, 2, 1), torch.nn.MaxPool2d(3, 2, 1)),
    (nn.AvgPool2d(2), torch.nn.AvgPool2d(2)),
    (nn.AvgPool2d(3, 2, 1, count_include_pad=False),
     torch.nn.AvgPool2d(3, 2, 1, count_include_pad=False)),
    (nn.MaxPool2d(3, 2, 1, ceil_mode=True), torch.nn.MaxPool2d(3, 2, 1, ceil_mode=True)),
    (nn.MaxPool2d(2, 3, 0, 2, False, True), torch.nn.MaxPool2d(2, 3, 0, 2, False, True)),
    (nn.AvgPool2d(3, 2, 1, True, False), torch.nn.AvgPool2d(3, 2, 1, True, False)),
    (nn.AvgPool2d(2, ceil_mode=True), torch.nn.AvgPool2d(2, ceil_mode=True)),
    (nn.AdaptiveAvgPool2d((3, 2)), torch.nn.AdaptiveAvgPool2d((3, 2))),
    (nn.AdaptiveAvgPool2d((None, 2)), torch.nn.AdaptiveAvgPool2d((None, 2))),
])
def test_pool_layers_match_torch(ours, theirs, rng):
    check_against_torch(ours, theirs, [rng.standard_normal((2, 3, 9, 7))])  # output, input grad


def test_pool1d_layers_match_torch(rng):
    x = rng.standard_normal((2, 3, 10))
    assert_close(nn.MaxPool1d(3, 2)(dn.tensor(x)), torch.nn.MaxPool1d(3, 2)(torch.tensor(x)))
    assert_close(nn.AvgPool1d(2)(dn.tensor(x)), torch.nn.AvgPool1d(2)(torch.tensor(x)))
    # PyTorch's positional order: MaxPool1d(k, s, p, dilation, return_indices, ceil_mode),
    # AvgPool1d(k, s, p, ceil_mode, count_include_pad)
    assert_close(nn.MaxPool1d(3, 2, 1, 1, False, True)(dn.tensor(x)),
                 torch.nn.MaxPool1d(3, 2, 1, 1, False, True)(torch.tensor(x)))
    assert_close(nn.AvgPool1d(3, 2, 1, True, False)(dn.tensor(x)),
                 torch.nn.AvgPool1d(3, 2, 1, True, False)(torch.tensor(x)))


def test_lecture_example():
    x = dn.tensor(np.array([[1, 3, 2, 1], [2, 9, 1, 1], [1, 3, 2, 3], [5, 6, 1, 2]],
                           dtype=np.float32).reshape(1, 1, 4, 4))
    np.testing.assert_array_equal(nn.MaxPool2d(2, 2)(x).numpy()[0, 0], [[9, 2], [6, 3]])


@pytest.mark.parametrize("make,match", [
    (lambda: nn.MaxPool2d(0), "kernel_size"),
    (lambda: nn.MaxPool2d(2, stride=0), "stride"),
    (lambda: nn.MaxPool2d(2, padding=2), "padding"),
    (lambda: nn.MaxPool2d(2, dilation=0), "dilation"),
    (lambda: nn.AvgPool2d(3, padding=-1), "padding"),
    (lambda: nn.MaxPool2d(2, return_indices=True), "return_indices"),
    (lambda: nn.AvgPool2d(2, divisor_override=0), "divisor_override"),
    (lambda: nn.AdaptiveAvgPool2d(0), "output_size"),
    (lambda: nn.AdaptiveAvgPool2d((2, 2, 2)), "output_size"),
    (lambda: nn.MaxPool1d(2, padding=3), "padding"),
])
def test_bad_hyperparameters_raise_at_construction(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_shape_errors_name_the_layer():
    with pytest.raises(dn.ShapeError, match=r"MaxPool2d\(kernel_size=2.*\(4, 4\)"):
        nn.MaxPool2d(2)(dn.randn(4, 4))
    assert nn.MaxPool2d(2)(dn.randn(3, 4, 4)).shape == (3, 2, 2)   # unbatched (C, H, W)
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.MaxPool2d(3, 2, ceil_mode=True)) == repr(torch.nn.MaxPool2d(3, 2,
                                                                                ceil_mode=True))
