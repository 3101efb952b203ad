"""Conv2d/Conv1d ops against PyTorch (values; input, weight and bias gradients) and central
differences, across strides, paddings, dilations, groups, odd sizes and batch size 1."""

import numpy as np
import pytest
import torch
import torch.nn.functional as TF

import deepnum as dn
import deepnum.nn.functional as F
from deepnum import fast
from tests.helpers import check_against_torch


@pytest.fixture(autouse=True)
def _kernels_from_batch_one(monkeypatch):
    """The kernels start at batch 48 (below, NumPy is faster); these tests use small batches."""
    monkeypatch.setattr(fast, "KERNEL_MIN_BATCH", 1)

# (N, C, H, W, O, kernel, stride, padding, dilation, groups)
CASES = [
    (2, 3, 6, 6, 2, 3, 1, 0, 1, 1),            # the lecture: 6x6x3 * two 3x3x3 -> 4x4x2
    (1, 1, 7, 5, 4, 3, 1, 1, 1, 1),            # batch 1, odd non-square image
    (3, 4, 9, 8, 6, (3, 2), (2, 1), (1, 2), 1, 2),
    (2, 6, 11, 10, 3, 3, 2, 2, (2, 1), 3),     # groups with one output per group
    (2, 4, 8, 8, 4, 3, 1, 1, 1, 4),            # depthwise
    (2, 2, 5, 5, 3, 1, 1, 0, 1, 1),            # 1x1 kernel
    (2, 3, 10, 9, 2, 4, 3, 0, 2, 1),           # stride and dilation that leave pixels unread
    (1, 2, 5, 5, 2, 5, 1, 0, 1, 1),            # kernel as large as the image -> 1x1
]


def _data(case, rng):
    n, c, h, w, o, k, s, p, d, g = case
    kh, kw = (k, k) if isinstance(k, int) else k
    return [rng.standard_normal((n, c, h, w)), rng.standard_normal((o, c // g, kh, kw)),
            rng.standard_normal(o)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", CASES)
def test_conv2d_matches_torch(case, dtype, rng, kernels):
    _, _, _, _, _, _, s, p, d, g = case
    check_against_torch(lambda x, w, b: F.conv2d(x, w, b, s, p, d, g),
                        lambda x, w, b: TF.conv2d(x, w, b, s, p, d, g), _data(case, rng), dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_conv2d_without_bias(dtype, rng, kernels):
    x, w, _ = _data(CASES[2], rng)
    check_against_torch(lambda x, w: F.conv2d(x, w, None, (2, 1), (1, 2), 1, 2),
                        lambda x, w: TF.conv2d(x, w, None, (2, 1), (1, 2), 1, 2), [x, w], dtype)


@pytest.mark.parametrize("kernel,dilation", [(3, 1), (4, 1), ((2, 5), (2, 1))])
def test_conv2d_same_and_valid_padding(kernel, dilation, rng):
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    x, w, b = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((4, 3, kh, kw)), \
        rng.standard_normal(4)
    for padding in ("same", "valid"):  # an even kernel pads one more on the bottom/right
        out = check_against_torch(lambda x, w, b, p=padding: F.conv2d(x, w, b, padding=p,
                                                                      dilation=dilation),
                                  lambda x, w, b, p=padding: TF.conv2d(x, w, b, padding=p,
                                                                       dilation=dilation),
                                  [x, w, b])
        if padding == "same":
            assert out.shape == (2, 4, 9, 8)


def test_conv2d_lecture_example_values():
    x = np.arange(6 * 6 * 3, dtype=np.float32).reshape(1, 3, 6, 6)
    w = np.stack([np.ones((3, 3, 3)), -np.eye(3)[None].repeat(3, 0)]).astype(np.float32)
    out = F.conv2d(dn.tensor(x), dn.tensor(w))
    assert out.shape == (1, 2, 4, 4) and out.dtype == np.float32
    assert out.numpy()[0, 0, 0, 0] == x[0, :, :3, :3].sum()          # every weight 1
    assert out.numpy()[0, 1, 2, 1] == -np.trace(x[0, :, 2:5, 1:4], axis1=1, axis2=2).sum()


def test_conv2d_gradcheck(rng, kernels):
    for case in (CASES[2], CASES[3], CASES[6]):
        _, _, _, _, _, _, s, p, d, g = case
        x, w, b = (dn.tensor(a, requires_grad=True) for a in _data(case, rng))
        assert dn.gradcheck(lambda x, w, b, a=(s, p, d, g): F.conv2d(x, w, b, *a), [x, w, b])


def test_conv2d_only_needed_gradients(rng):
    """The image needs no gradient: backward must skip col2im and still give weight and bias."""
    x, w, b = _data(CASES[1], rng)
    xt = dn.tensor(x.astype(np.float32))
    wt, bt = dn.tensor(w.astype(np.float32), requires_grad=True), \
        dn.tensor(b.astype(np.float32), requires_grad=True)
    F.conv2d(xt, wt, bt, padding=1).sum().backward()
    assert xt.grad is None and wt.grad.dtype == np.float32 and bt.grad.shape == (4,)
    with dn.no_grad():
        assert not F.conv2d(xt, wt, bt, padding=1).requires_grad


def test_conv2d_unbatched_and_output_layout(rng, kernels):
    x, w, b = (dn.tensor(a) for a in _data(CASES[0], rng))
    single = F.conv2d(x[0], w, b)
    np.testing.assert_allclose(single.numpy(), F.conv2d(x, w, b).numpy()[0], rtol=1e-6)
    if kernels != "reference":
        # the speed wing's output is a batch-last (C, H, W, N) array seen as NCHW: the next
        # conv reads it as is
        out = F.conv2d(x, w, b)
        assert out.numpy().transpose(1, 2, 3, 0).flags.c_contiguous


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("stride,padding,dilation,groups", [(1, 0, 1, 1), (2, 1, 1, 2),
                                                            (1, "same", 2, 1), (3, 2, 2, 2)])
def test_conv1d_matches_torch(stride, padding, dilation, groups, dtype, rng, kernels):
    x, w, b = rng.standard_normal((3, 4, 17)), rng.standard_normal((6, 4 // groups, 3)), \
        rng.standard_normal(6)
    check_against_torch(lambda x, w, b: F.conv1d(x, w, b, stride, padding, dilation, groups),
                        lambda x, w, b: TF.conv1d(x, w, b, stride, padding, dilation, groups),
                        [x, w, b], dtype)


def test_conv2d_shape_errors(rng):
    x, w, b = (dn.tensor(a) for a in _data(CASES[0], rng))
    with pytest.raises(dn.ShapeError, match=r"expects 3 input channels.*\(2, 1, 6, 6\)"):
        F.conv2d(dn.randn(2, 1, 6, 6), w, b)
    with pytest.raises(dn.ShapeError, match="smaller than the kernel"):
        F.conv2d(dn.randn(2, 3, 2, 6), w, b)
    with pytest.raises(ValueError, match="padding='same' needs stride 1"):
        F.conv2d(x, w, b, stride=2, padding="same")


def test_conv2d_float32_stays_float32(rng, kernels):
    x, w, b = (dn.tensor(a.astype(np.float32), requires_grad=True) for a in _data(CASES[2], rng))
    out = F.conv2d(x, w, b, (2, 1), (1, 2), 1, 2)
    assert out.dtype == np.float32
    out.sum().backward()
    assert {x.grad.dtype, w.grad.dtype, b.grad.dtype} == {np.dtype(np.float32)}
    ref = TF.conv2d(torch.tensor(x.numpy()), torch.tensor(w.numpy()), torch.tensor(b.numpy()),
                    (2, 1), (1, 2), 1, 2)
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-4, atol=1e-5)


def test_backward_twice_with_retain_graph(rng, kernels):
    """Saved columns must survive a first backward (they go back to the scratch pool only when
    the graph is freed), and reused buffers must not leak values between steps."""
    x, w, b = (dn.tensor(a, requires_grad=True) for a in _data(CASES[2], rng))
    out = F.max_pool2d(F.conv2d(x, w, b, (2, 1), (1, 2), 1, 2), 2, 1)
    out.sum().backward(retain_graph=True)
    first = [t.grad.numpy().copy() for t in (x, w, b)]
    out.sum().backward()
    for t, g in zip((x, w, b), first):
        np.testing.assert_allclose(t.grad.numpy(), 2 * g, rtol=1e-12)
    grads = []
    for _ in range(3):  # buffers of the same shapes are reused: results must not change
        x.grad = w.grad = None
        F.conv2d(x, w, b, (2, 1), (1, 2), 1, 2).sum().backward()
        grads.append((x.grad.numpy().copy(), w.grad.numpy().copy()))
    for gx, gw in grads[1:]:
        np.testing.assert_array_equal(gx, grads[0][0])
        np.testing.assert_array_equal(gw, grads[0][1])
