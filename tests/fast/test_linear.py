"""The fused Linear + ReLU of the speed wing against PyTorch and against the two ops it replaces."""

import numpy as np
import pytest
import torch.nn.functional as TF

import deepnum as dn
import deepnum.nn.functional as F
from deepnum.fast.linear import LinearReLU
from tests.helpers import check_against_torch

DTYPES = [np.float64, np.float32]


def linear_relu(x, w, b=None):
    return LinearReLU.apply(x, w) if b is None else LinearReLU.apply(x, w, b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape", [(5, 3), (2, 5, 3), (3,)], ids=str)
def test_linear_relu_against_torch(x_shape, dtype, rng):
    x, w, b = rng.standard_normal(x_shape), rng.standard_normal((4, 3)), rng.standard_normal(4)
    check_against_torch(linear_relu, lambda x, w, b: TF.relu(TF.linear(x, w, b)), [x, w, b],
                        dtype)
    check_against_torch(lambda x, w: linear_relu(x, w), lambda x, w: TF.relu(TF.linear(x, w)),
                        [x, w], dtype)


def test_linear_relu_is_bitwise_linear_then_relu(rng):
    x = dn.tensor(rng.standard_normal((6, 5)).astype(np.float32), requires_grad=True)
    w = dn.tensor(rng.standard_normal((4, 5)).astype(np.float32), requires_grad=True)
    w.data[0] = 0.0  # a unit whose pre-activation is exactly 0: ReLU's gradient there is 0
    b = dn.zeros(4, requires_grad=True)
    g = rng.standard_normal((6, 4)).astype(np.float32)
    fused = linear_relu(x, w, b)
    fused.backward(g)
    grads = [t.grad.numpy().copy() for t in (x, w, b)]
    for t in (x, w, b):
        t.grad = None
    plain = F.relu(F.linear(x, w, b))
    plain.backward(g)
    np.testing.assert_array_equal(fused.numpy(), plain.numpy())
    for got, t in zip(grads, (x, w, b)):
        np.testing.assert_array_equal(got, t.grad.numpy())



@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 7), (33, 40), (128, 256)], ids=str)
def test_the_compiled_bias_relu_passes_equal_numpys_bit_for_bit(shape, dtype, rng):
    """The captured LinearStage's two compiled passes against the NumPy expressions they stand
    for (NaN and zeros included): out + b then max(0, .); g * (out > 0) and its column sum."""
    from deepnum.fast import jit
    from deepnum.fast.linear import bias_relu_rows, relu_grad_bias_rows
    from tests.helpers import kernels_on

    if not jit.available():
        pytest.skip("Numba is not installed")
    out = rng.standard_normal(shape).astype(dtype)
    out[0, 0], out[-1, -1] = np.nan, 0
    bias = rng.standard_normal(shape[1]).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    g[-1, 0] = np.nan
    with kernels_on(True):
        for relu in (True, False):
            expected = out + bias
            if relu:
                np.maximum(expected, 0, out=expected)
            got = out.copy()
            bias_relu_rows(got, bias, relu)
            np.testing.assert_array_equal(got, expected)
        gm, gb = np.empty_like(g), np.empty(shape[1], dtype)
        relu_grad_bias_rows(g, out, gm, gb, dtype(0), dtype(1))
    masked = g * (out > 0)
    np.testing.assert_array_equal(gm, masked)
    np.testing.assert_array_equal(gb, masked.sum(axis=0))
