"""Pooling ops against PyTorch (values and input gradients) and central differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnum as dn
import deepnum.nn.functional as F
from tests.helpers import check_against_torch

# (shape, kernel, stride, padding)
POOLS = [
    ((2, 3, 4, 4), 2, None, 0),           # the lecture: 4x4 -> 2x2 with 2x2 filters, stride 2
    ((1, 2, 7, 9), 3, 2, 1),              # overlapping windows, padding, odd sizes, batch 1
    ((2, 1, 6, 5), (2, 3), (1, 2), (1, 0)),
    ((2, 2, 13, 13), 3, 2, 0),            # AlexNet's pool
    ((3, 2, 5, 5), 5, 1, 2),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,kernel,stride,padding", POOLS)
def test_max_pool2d_matches_torch(shape, kernel, stride, padding, dtype, rng):
    check_against_torch(lambda x: F.max_pool2d(x, kernel, stride, padding),
                        lambda x: TF.max_pool2d(x, kernel, stride, padding),
                        [rng.standard_normal(shape)], dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_max_pool2d_dilation(dtype, rng):
    check_against_torch(lambda x: F.max_pool2d(x, 3, 2, 1, dilation=2),
                        lambda x: TF.max_pool2d(x, 3, 2, 1, dilation=2),
                        [rng.standard_normal((2, 2, 11, 10))], dtype)


@pytest.mark.parametrize("count_include_pad", [True, False])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,kernel,stride,padding", POOLS)
def test_avg_pool2d_matches_torch(shape, kernel, stride, padding, dtype, count_include_pad, rng):
    check_against_torch(lambda x: F.avg_pool2d(x, kernel, stride, padding,
                                               count_include_pad=count_include_pad),
                        lambda x: TF.avg_pool2d(x, kernel, stride, padding,
                                                count_include_pad=count_include_pad),
                        [rng.standard_normal(shape)], dtype)


def test_avg_pool2d_divisor_override(rng):
    check_against_torch(lambda x: F.avg_pool2d(x, 3, 2, 1, divisor_override=4),
                        lambda x: TF.avg_pool2d(x, 3, 2, 1, divisor_override=4),
                        [rng.standard_normal((2, 2, 7, 7))])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shape,out", [((2, 3, 13, 13), (6, 6)), ((1, 2, 7, 5), (3, 2)),
                                       ((2, 2, 6, 6), 1), ((2, 2, 5, 4), (5, 8))])
def test_adaptive_avg_pool2d_matches_torch(shape, out, dtype, rng):
    check_against_torch(lambda x: F.adaptive_avg_pool2d(x, out),
                        lambda x: TF.adaptive_avg_pool2d(x, out), [rng.standard_normal(shape)],
                        dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_pool1d_matches_torch(dtype, rng):
    x = [rng.standard_normal((2, 3, 11))]
    check_against_torch(lambda x: F.max_pool1d(x, 3, 2, 1), lambda x: TF.max_pool1d(x, 3, 2, 1),
                        x, dtype)
    check_against_torch(lambda x: F.avg_pool1d(x, 4, 3, 2), lambda x: TF.avg_pool1d(x, 4, 3, 2),
                        x, dtype)


def test_max_pool_ties_route_to_first_maximum():
    """Equal values in a window: the whole gradient goes to the first one (row-major), as torch."""
    x = np.array([[[[1.0, 3.0, 3.0, 0.0],
                    [3.0, 2.0, 5.0, 5.0],
                    [0.0, 0.0, 7.0, 7.0],
                    [0.0, 0.0, 7.0, 7.0]]]])
    ours = dn.tensor(x, requires_grad=True)
    F.max_pool2d(ours, 2).sum().backward()
    theirs = torch.tensor(x, requires_grad=True)
    TF.max_pool2d(theirs, 2).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())
    assert ours.grad.numpy().sum() == 4 and ours.grad.numpy()[0, 0, 0, 1] == 1


def test_max_pool_overlapping_windows_accumulate():
    x = np.zeros((1, 1, 5, 5))
    x[0, 0, 2, 2] = 9.0  # the centre is the max of all four 3x3 windows (stride 2)
    ours = dn.tensor(x, requires_grad=True)
    F.max_pool2d(ours, 3, 2).sum().backward()
    assert ours.grad.numpy()[0, 0, 2, 2] == 4


def test_max_pool_nan_propagates_like_torch():
    x = np.array([[[[1.0, np.nan], [3.0, 2.0]]]])
    ours = dn.tensor(x, requires_grad=True)
    out = F.max_pool2d(ours, 2)
    out.sum().backward()
    assert np.isnan(out.item())
    theirs = torch.tensor(x, requires_grad=True)
    TF.max_pool2d(theirs, 2).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_pool_gradcheck(rng):
    x = dn.tensor(rng.standard_normal((2, 2, 7, 6)), requires_grad=True)
    assert dn.gradcheck(lambda t: F.max_pool2d(t, 3, 2, 1), [x])
    assert dn.gradcheck(lambda t: F.avg_pool2d(t, 3, 2, 1, count_include_pad=False), [x])
    assert dn.gradcheck(lambda t: F.adaptive_avg_pool2d(t, (3, 4)), [x])


def test_pool_keeps_batch_last_layout_and_dtype(rng):
    x = dn.tensor(rng.standard_normal((3, 5, 5, 2)).astype(np.float32)).permute(3, 0, 1, 2)
    for out in (F.max_pool2d(x, 2), F.avg_pool2d(x, 2)):
        assert out.dtype == np.float32
        assert out.numpy().transpose(1, 2, 3, 0).flags.c_contiguous


def test_pool_window_larger_than_input_is_an_error():
    with pytest.raises(ValueError, match="does not fit"):
        F.max_pool2d(dn.randn(1, 1, 2, 2), 3)
