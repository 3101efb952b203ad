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


@pytest.mark.parametrize("rows", [1, 2, 8, 32, 64, 65, 128])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", DTYPES)
def test_linear_product_gives_x_times_w_transposed_bit_for_bit(rows, order, dtype, rng):
    from deepnum.fast import linear

    x = np.asarray(rng.standard_normal((rows, 784)), dtype=dtype, order=order)
    w = rng.standard_normal((256, 784)).astype(dtype)
    expected = x @ w.T
    got = linear.linear_product(x, w)
    assert got.flags.c_contiguous and got.dtype == dtype
    np.testing.assert_array_equal(got, expected)
    out, scratch = np.empty((rows, 256), dtype), np.empty((256, rows), dtype)
    assert linear.linear_product(x, w, out, scratch) is out
    np.testing.assert_array_equal(out, expected)
    # W @ x^T is considered only for a few C-order float32 rows, each shape checked once on this
    # BLAS (it gave x @ W^T's numbers on an AVX-512 Xeon, not on an AVX2 EPYC)
    if 1 < rows <= linear.FEW_ROWS and order == "C" and dtype == np.float32:
        assert isinstance(linear._same_numbers[(rows, 784, 256)], bool)


@pytest.mark.parametrize("same", [True, False])
def test_linear_product_uses_w_times_x_transposed_only_where_checked_equal(same, monkeypatch,
                                                                          rng):
    from deepnum.fast import linear

    calls = []
    monkeypatch.setattr(linear, "_same_numbers", {(32, 16, 8): same})
    x = rng.standard_normal((32, 16)).astype(np.float32)
    w = rng.standard_normal((8, 16)).astype(np.float32)
    real_matmul = np.matmul
    monkeypatch.setattr(linear.np, "matmul", lambda a, b, **k: calls.append(
        (a.shape, b.shape)) or real_matmul(a, b, **k))
    got = linear.linear_product(x, w)
    assert got.flags.c_contiguous
    if same:  # W @ x^T, then copied into C order
        assert calls == [((8, 16), (16, 32))]
        np.testing.assert_allclose(got, x @ w.T, rtol=1e-5, atol=1e-5)
    else:  # where a BLAS sums otherwise, x @ W^T itself
        assert calls == [((32, 16), (16, 8))]
        np.testing.assert_array_equal(got, x @ w.T)


def test_product_scratch_is_made_only_where_linear_product_can_use_it():
    from deepnum.fast import linear

    assert linear.product_scratch(np.empty((32, 256), np.float32)).shape == (256, 32)
    for out in (np.empty((1000, 256), np.float32), np.empty((32, 256)), np.empty((256,)),
                np.empty((1, 256), np.float32)):
        assert linear.product_scratch(out) is None
