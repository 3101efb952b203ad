"""The fused Conv2d + ReLU + MaxPool2d op (used with the compiled kernels) against PyTorch and
against the two separate ops; Sequential picks it for Conv2d, ReLU, MaxPool2d."""

import numpy as np
import pytest
import torch.nn.functional as TF

import deepnum as dn
import deepnum.nn as nn
import deepnum.nn.functional as F
from deepnum import fast, jit
from tests.helpers import check_against_torch, conv2d_relu, conv2d_relu_max_pool2d, kernels_on


@pytest.fixture(autouse=True)
def _kernels_from_batch_one(monkeypatch):
    """The kernels start at batch 48 (below, NumPy is faster); these tests use small batches."""
    monkeypatch.setattr(fast, "KERNEL_MIN_BATCH", 1)

# (N, C, H, W, O, kernel, stride, padding, dilation, groups), (pool kernel, stride, padding)
CASES = [
    ((3, 1, 12, 12, 4, 5, 1, 2, 1, 1), (2, 2, 0)),    # LeNet's first stage: windows tile
    ((2, 4, 11, 10, 6, 3, 1, 0, 1, 2), (3, 2, 1)),    # overlapping, padded windows; groups
    ((2, 3, 9, 9, 2, (3, 2), (2, 1), 1, (1, 2), 1), (2, 1, 0)),  # stride 1 pool, odd sizes
    ((2, 3, 10, 9, 4, 3, 1, 1, 1, 1), (3, 2, 0, 1, True)),  # ceil_mode: 10x9 -> 5x4, not 4x4
]


def _data(case, rng, dtype=np.float64):
    n, c, h, w, o, k, s, p, d, g = case
    kh, kw = (k, k) if isinstance(k, int) else k
    return [rng.standard_normal(shape).astype(dtype)
            for shape in ((n, c, h, w), (o, c // g, kh, kw), (o,))]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case,pool", CASES)
def test_conv2d_relu_max_pool2d_matches_torch(case, pool, dtype, rng, kernels):
    _, _, _, _, _, _, s, p, d, g = case
    check_against_torch(
        lambda x, w, b: conv2d_relu_max_pool2d(x, w, b, s, p, d, g, *pool),
        lambda x, w, b: TF.max_pool2d(TF.relu(TF.conv2d(x, w, b, s, p, d, g)), *pool),
        _data(case, rng), dtype)


@pytest.mark.parametrize("case,pool", CASES)
def test_conv2d_relu_max_pool2d_gradcheck(case, pool, rng, kernels):
    """Finite differences agree with the fused op's gradients of input, weight and bias."""
    _, _, _, _, _, _, s, p, d, g = case
    tensors = [dn.tensor(a, requires_grad=True) for a in _data(case, rng)]
    assert dn.gradcheck(lambda x, w, b: conv2d_relu_max_pool2d(x, w, b, s, p, d, g, *pool),
                        tensors)


@pytest.mark.parametrize("use_jit", [True, False])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case,pool", CASES)
def test_fused_op_equals_the_separate_ops(case, pool, bias, use_jit, rng):
    """Same values and gradients as conv2d_relu then max_pool2d, with the kernels
    (Conv2dReLUMaxPool) and without (Conv2dReLUThenMaxPool); equal as numbers: a zero's sign
    may differ, see fast/conv_pool.py."""
    if use_jit and not jit.available():
        pytest.skip("Numba is not installed")
    _, _, _, _, _, _, s, p, d, g = case
    x, w, b = _data(case, rng, np.float32)
    w[:2] = 0  # channels 0 and 1 are their bias everywhere: all ties, above and below 0
    b[1] = -abs(b[1])
    upstream = None
    results = []
    with kernels_on(use_jit):
        for fused in (True, False):
            tensors = [dn.tensor(a, requires_grad=True) for a in (x, w, b)]
            bt = tensors[2] if bias else None
            if fused:
                out = conv2d_relu_max_pool2d(tensors[0], tensors[1], bt, s, p, d, g, *pool)
            else:
                out = F.max_pool2d(conv2d_relu(tensors[0], tensors[1], bt, s, p, d, g), *pool)
            if upstream is None:
                upstream = rng.standard_normal(out.shape).astype(np.float32)
            (out * dn.tensor(upstream)).sum().backward()
            grads = [t.grad.numpy() for t in tensors[:3 if bias else 2]]
            results.append([out.numpy()] + grads)
    for a, b_ in zip(*results):
        np.testing.assert_array_equal(a, b_)


def test_sequential_runs_conv_relu_maxpool_as_one_op(rng):
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten())
    x = dn.tensor(rng.standard_normal((2, 1, 6, 6)).astype(np.float32))
    for use_jit in ([False, True] if jit.available() else [False]):
        with kernels_on(use_jit):
            flat = model(x)
        pooled = flat._ctx.parents[0]  # Flatten's input: the pooling's output
        expected = "Conv2dReLUMaxPool" if use_jit else "Conv2dReLUThenMaxPool"
        assert type(pooled._ctx).__name__ == expected
        assert flat.shape == (2, 36)


def test_fused_op_in_no_grad_keeps_nothing(rng):
    if not jit.available():
        pytest.skip("Numba is not installed")
    x, w, b = (dn.tensor(a) for a in _data(CASES[0][0], rng, np.float32))
    with kernels_on(True):
        with dn.no_grad():
            out = conv2d_relu_max_pool2d(x, w, b, 1, 2, 1, 1, 2)
        ref = F.max_pool2d(conv2d_relu(x, w, b, 1, 2), 2)
    assert out._ctx is None and out.dtype == np.float32
    np.testing.assert_array_equal(out.numpy(), ref.numpy())


@pytest.mark.parametrize("use_jit", [True, False])
def test_weight_gradient_when_only_the_weights_need_one(use_jit, rng):
    """The image (data) needs no gradient, the filters do: the fused op still routes the
    gradient through its pooling to the weights, equal to the separate ops."""
    if use_jit and not jit.available():
        pytest.skip("Numba is not installed")
    x, w, b = _data(CASES[0][0], rng, np.float32)
    grads = []
    with kernels_on(use_jit):
        for fused in (True, False):
            wt, bt = dn.tensor(w, requires_grad=True), dn.tensor(b, requires_grad=True)
            if fused:
                out = conv2d_relu_max_pool2d(dn.tensor(x), wt, bt, 1, 2, 1, 1, 2)
            else:
                out = F.max_pool2d(conv2d_relu(dn.tensor(x), wt, bt, 1, 2), 2)
            out.sum().backward()
            grads.append((wt.grad.numpy(), bt.grad.numpy()))
    for a, b_ in zip(*grads):
        np.testing.assert_array_equal(a, b_)
