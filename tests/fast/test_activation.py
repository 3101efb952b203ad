"""The compiled ReLU against the reference's np.maximum: the same bits, memory order and graph."""

import numpy as np
import pytest

import deepnum as dn
import deepnum.nn.functional as F
from deepnum import fast, jit
from deepnum.fast import activation as fast_activation
from deepnum.ops import activation, elementwise
from tests.helpers import kernels_on

pytestmark = pytest.mark.skipif(not jit.available(), reason="needs Numba")

SPECIAL = np.array([np.nan, -np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-45, -1e-45, 3.0, -3.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_last", [False, True])
def test_kernel_relu_gives_np_maximums_bits(dtype, batch_last, rng):
    x = rng.standard_normal((4, 6, 30, 30)).astype(dtype)
    x.reshape(-1)[:SPECIAL.size] = SPECIAL
    if batch_last:
        x = np.ascontiguousarray(np.moveaxis(x, 0, -1)).transpose(3, 0, 1, 2)
    assert x.size >= fast_activation.MIN_SIZE
    expected = np.maximum(x, 0)
    out = fast_activation.relu(x)
    assert out.strides == x.strides and out.dtype == dtype
    np.testing.assert_array_equal(out.view(f"u{x.itemsize}"), expected.view(f"u{x.itemsize}"))
    inplace = x.copy(order="K")
    assert fast_activation.relu(inplace, out=inplace) is inplace
    np.testing.assert_array_equal(inplace.view(f"u{x.itemsize}"),
                                  expected.view(f"u{x.itemsize}"))


def test_the_wing_runs_relu_and_its_gradient_as_the_reference(rng):
    assert fast.choose(elementwise.ReLU) is fast_activation.KernelReLU
    assert fast.choose(activation.ReLUInPlace) is fast_activation.KernelReLUInPlace
    x = rng.standard_normal((64, 512)).astype(np.float32)
    g = rng.standard_normal((64, 512)).astype(np.float32)
    results = []
    for mode in ("reference", True):
        with kernels_on(mode):
            for inplace in (False, True):
                leaf = dn.tensor(x, requires_grad=True)
                h = leaf * 1.0
                out = F.relu(h, inplace=inplace)
                out.backward(dn.tensor(g))
                results.append((out.detach().numpy().copy(), leaf.grad.numpy().copy()))
    for a, b in zip(results[:2], results[2:]):
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])


@pytest.mark.parametrize("why", ["small", "strided", "int", "overlap"])
def test_what_the_kernel_does_not_take_runs_np_maximum(why, rng):
    x = rng.standard_normal((200, 200))
    out = None
    if why == "small":
        x = x[:10].copy()
    elif why == "strided":
        x = x[:, ::2]
    elif why == "int":
        x = (x * 10).astype(np.int64)
    else:
        out = x[::-1]  # the same memory, in another order
    expected = np.maximum(x, 0)
    np.testing.assert_array_equal(fast_activation.relu(x, out=out), expected)
